// A lean hand-written N×N output-stationary array: the measuring stick for the simulation
// speed of the generated arrays (`make bench`, docs/SYSTOLIC.md, Simulation speed). Not
// generated and not part of any design; built with the same Verilator flags as the generated
// ones and clocked by reference/ref_os_loop.cpp.
//
// 8-bit signed operands enter already skewed: row i of A on the west edge, column j of B on the
// north edge, one new value per cycle each. Every PE adds a_in * b_in into its 32-bit
// accumulator; `clear` starts a new tile (the accumulator takes the product alone). Read-out is
// one PE at a time: `acc_out` shows accumulator `sel` (row-major).
module ref_os_array #(parameter N = 16) (
    input  wire                       clk,
    input  wire                       clear,
    input  wire [8*N-1:0]             a_west,
    input  wire [8*N-1:0]             b_north,
    input  wire [$clog2(N*N)-1:0]     sel,
    output wire [31:0]                acc_out
);
    wire [7:0]  a [0:N-1][0:N];   // a[i][j]: into PE (i, j) from the west
    wire [7:0]  b [0:N][0:N-1];   // b[i][j]: into PE (i, j) from the north
    wire [31:0] acc [0:N*N-1];
    assign acc_out = acc[sel];
    genvar i, j;
    generate
        for (i = 0; i < N; i = i + 1) begin : edge_in
            assign a[i][0] = a_west[8*i +: 8];
            assign b[0][i] = b_north[8*i +: 8];
        end
        for (i = 0; i < N; i = i + 1) begin : row
            for (j = 0; j < N; j = j + 1) begin : col
                ref_os_pe pe (.clk(clk), .clear(clear), .a_in(a[i][j]), .b_in(b[i][j]),
                              .a_out(a[i][j+1]), .b_out(b[i+1][j]), .acc(acc[N*i+j]));
            end
        end
    endgenerate
endmodule
