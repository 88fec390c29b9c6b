// One PE of ref_os_array.v (the hand-written reference array).
module ref_os_pe (
    input  wire               clk,
    input  wire               clear,
    input  wire signed [7:0]  a_in,
    input  wire signed [7:0]  b_in,
    output reg  signed [7:0]  a_out,
    output reg  signed [7:0]  b_out,
    output reg  signed [31:0] acc
);
    always @(posedge clk) begin
        a_out <= a_in;
        b_out <= b_in;
        acc <= (clear ? 32'sd0 : acc) + a_in * b_in;
    end
endmodule
