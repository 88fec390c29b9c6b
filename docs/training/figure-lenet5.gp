set terminal svg size 1200,540 font "Helvetica,13" noenhanced background rgb "white"
set encoding utf8
set grid back lc rgb "#dddddd"
set key at graph 0.5, character 4.1 center top horizontal box opaque
set bmargin 9
set border 3
set tics nomirror
set linetype 1 lc rgb "#0072B2" lw 2 pt 7
set linetype 2 lc rgb "#D55E00" lw 2 pt 5
set linetype 3 lc rgb "#009E73" lw 2 pt 9
set linetype 4 lc rgb "#CC79A7" lw 2 pt 11
set linetype 5 lc rgb "#E69F00" lw 2 pt 13
set linetype 6 lc rgb "#56B4E9" lw 2 pt 7
set linetype 7 lc rgb "#F0E442" lw 2 pt 5
set linetype 8 lc rgb "#000000" lw 2 pt 9
set linetype 9 lc rgb "#999999" lw 2 pt 11
set linetype cycle 9
set output "figure-lenet5.svg"
set xlabel "epoch"
set ylabel "test error (%)"
set xrange [0.5:4.5]
set yrange [0:95]
set xtics 1
set multiplot layout 1,2 title "LeNet-5 on Fashion-MNIST: <16, FL> fixed point in the array's arithmetic against float (after Gupta et al. 2015, Figure 2)"
set title "(a) round to nearest"
$n0 << EOD
1 16.47
2 15.17
3 13.36
4 12.33
EOD
$n1 << EOD
1 90
2 90
3 90
4 90
EOD
$n2 << EOD
1 41.53
2 17.62
3 18.09
4 14.38
EOD
plot $n0 using 1:2 with linespoints lt 8 ps 0.9 title "float", \
     $n1 using 1:2 with linespoints lt 1 ps 0.9 title "FL 8", \
     $n2 using 1:2 with linespoints lt 2 ps 0.9 title "FL 10"
set title "(b) stochastic rounding"
$s0 << EOD
1 16.47
2 15.17
3 13.36
4 12.33
EOD
$s1 << EOD
1 19.27
2 18.17
3 16.54
4 14.39
EOD
$s2 << EOD
1 18.73
2 16.71
3 16.4
4 14.27
EOD
plot $s0 using 1:2 with linespoints lt 8 ps 0.9 title "float", \
     $s1 using 1:2 with linespoints lt 1 ps 0.9 title "FL 8", \
     $s2 using 1:2 with linespoints lt 2 ps 0.9 title "FL 10"
unset multiplot
