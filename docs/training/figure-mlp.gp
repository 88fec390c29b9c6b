set terminal svg size 1200,680 font "Helvetica,13" noenhanced background rgb "white"
set encoding utf8
set grid back lc rgb "#dddddd"
set key at graph 0.5, character 13.2 center top horizontal box opaque
set bmargin 18
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
set output "figure-mlp.svg"
set xlabel "epoch"
set ylabel "test error (%)"
set xrange [0.5:8.5]
set yrange [0:95]
set xtics 1
set multiplot layout 1,2 title "MLP on Fashion-MNIST: <16, FL> fixed point in the array's arithmetic against float (after Gupta et al. 2015, Figure 2)"
set title "(a) round to nearest"
$n0 << EOD
1 17.04
2 15.05
3 14.49
4 13.06
5 14.49
6 13.26
7 12.92
8 12.58
EOD
$n1 << EOD
1 17.14
2 16.33
3 14.27
4 14.13
5 12.71
6 13.54
7 13.15
8 12.92
EOD
$n2 << EOD
1 20.7
2 19.55
3 19.1
4 17.73
5 21
6 17.63
7 17.85
8 17.49
EOD
$n3 << EOD
1 88.97
2 89.51
3 89.59
4 89.79
5 89.84
6 89.87
7 89.9
8 89.91
EOD
$n4 << EOD
1 88.74
2 89.22
3 89.54
4 89.71
5 89.79
6 89.84
7 89.82
8 89.82
EOD
$n5 << EOD
1 25.1
2 29.89
3 27.35
4 37
5 29.73
6 35.31
7 28.82
8 28.89
EOD
$n6 << EOD
1 22.68
2 21.78
3 29.25
4 31.27
5 30.94
6 28.91
7 31.36
8 26.39
EOD
$n7 << EOD
1 16.62
2 16.07
3 14.47
4 13.74
5 14.23
6 13.92
7 13.48
8 12.9
EOD
plot $n0 using 1:2 with linespoints lt 8 ps 0.9 title "float", \
     $n1 using 1:2 with linespoints lt 8 dt 2 pt 6 ps 0.9 title "float (seed 2)", \
     $n2 using 1:2 with linespoints lt 4 ps 0.9 title "FL 8, 1/B in the rate", \
     $n3 using 1:2 with linespoints lt 1 ps 0.9 title "FL 8", \
     $n4 using 1:2 with linespoints lt 1 dt 2 pt 6 ps 0.9 title "FL 8 (seed 2)", \
     $n5 using 1:2 with linespoints lt 2 ps 0.9 title "FL 10", \
     $n6 using 1:2 with linespoints lt 2 dt 2 pt 6 ps 0.9 title "FL 10 (seed 2)", \
     $n7 using 1:2 with linespoints lt 3 ps 0.9 title "FL 14"
set title "(b) stochastic rounding"
$s0 << EOD
1 17.04
2 15.05
3 14.49
4 13.06
5 14.49
6 13.26
7 12.92
8 12.58
EOD
$s1 << EOD
1 17.14
2 16.33
3 14.27
4 14.13
5 12.71
6 13.54
7 13.15
8 12.92
EOD
$s2 << EOD
1 17.38
2 15.56
3 14.95
4 13.98
5 16.04
6 15.36
7 14.21
8 13.27
EOD
$s3 << EOD
1 26.14
2 28.32
3 20.02
4 25.28
5 28.08
6 22.46
7 22.1
8 21.73
EOD
$s4 << EOD
1 27.49
2 30.01
3 27.61
4 24.3
5 28.79
6 33.4
7 26.84
8 36.91
EOD
$s5 << EOD
1 17.94
2 15.73
3 15.17
4 13.54
5 15.38
6 13.39
7 13.07
8 13.43
EOD
$s6 << EOD
1 17.62
2 17.2
3 14.7
4 14.21
5 13.44
6 14.59
7 13.41
8 13.52
EOD
$s7 << EOD
1 16.27
2 15.71
3 14.54
4 13.53
5 14.02
6 13.81
7 13.68
8 12.99
EOD
$s8 << EOD
1 84.1
2 83.75
3 80.65
4 75.05
5 79.95
6 77.09
7 85.33
8 81.93
EOD
plot $s0 using 1:2 with linespoints lt 8 ps 0.9 title "float", \
     $s1 using 1:2 with linespoints lt 8 dt 2 pt 6 ps 0.9 title "float (seed 2)", \
     $s2 using 1:2 with linespoints lt 4 ps 0.9 title "FL 8, 1/B in the rate", \
     $s3 using 1:2 with linespoints lt 1 ps 0.9 title "FL 8", \
     $s4 using 1:2 with linespoints lt 1 dt 2 pt 6 ps 0.9 title "FL 8 (seed 2)", \
     $s5 using 1:2 with linespoints lt 2 ps 0.9 title "FL 10", \
     $s6 using 1:2 with linespoints lt 2 dt 2 pt 6 ps 0.9 title "FL 10 (seed 2)", \
     $s7 using 1:2 with linespoints lt 3 ps 0.9 title "FL 14", \
     $s8 using 1:2 with linespoints lt 3 dt 3 pt 6 ps 0.9 title "FL 14, straight-through saturation"
unset multiplot
