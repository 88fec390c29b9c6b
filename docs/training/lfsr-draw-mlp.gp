set terminal svg size 760,560 font "Helvetica,13" noenhanced background rgb "white"
set encoding utf8
set grid back lc rgb "#dddddd"
set key at graph 0.5, character 6.7 center top horizontal box opaque
set bmargin 11
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
set output "lfsr-draw-mlp.svg"
set title "MLP: stochastic rounding with decorrelated (leap) and one-step LFSR draws"
set xlabel "epoch"
set ylabel "test error (%)"
set xrange [0.5:8.5]
set yrange [0:35]
set xtics 1
$d0 << EOD
1 26.14
2 28.32
3 20.02
4 25.28
5 28.08
6 22.46
7 22.1
8 21.73
EOD
$d1 << EOD
1 21.06
2 24.03
3 21.24
4 19.78
5 28.97
6 23.51
7 22.72
8 20.58
EOD
$d2 << EOD
1 17.94
2 15.73
3 15.17
4 13.54
5 15.38
6 13.39
7 13.07
8 13.43
EOD
$d3 << EOD
1 18.39
2 16.27
3 15.23
4 13.7
5 17.2
6 14.29
7 13.82
8 13.78
EOD
plot $d0 using 1:2 with linespoints lt 1 ps 0.9 title "FL 8, stochastic, leap (D steps per draw)", \
     $d1 using 1:2 with linespoints lt 1 dt 2 pt 6 ps 0.9 title "FL 8, stochastic, one step per draw", \
     $d2 using 1:2 with linespoints lt 2 ps 0.9 title "FL 10, stochastic, leap (D steps per draw)", \
     $d3 using 1:2 with linespoints lt 2 dt 2 pt 6 ps 0.9 title "FL 10, stochastic, one step per draw"
