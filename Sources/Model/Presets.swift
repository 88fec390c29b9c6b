/// Named layers for `simulate conv --layer` and the tests: plain data. Looking a name up
/// (`Presets.named`) and validating a shape (`ConvShape.validate`) are in Conv, because their
/// refusals are Cores' `ParameterError`, naming the command-line flag.
public enum Presets {
    /// AlexNet CONV1–5 (Krizhevsky et al., NIPS 2012) as Sze et al. ("Efficient Processing of
    /// Deep Neural Networks: A Tutorial and Survey", Proc. IEEE 2017) tabulate them: R×S, M, C,
    /// stride from their AlexNet layer table (1: 11x11, 96, 3, 4; 2: 5x5, 256, 48, 1; 3: 3x3, 384, 256, 1;
    /// 4: 3x3, 384, 192, 1; 5: 3x3, 256, 192, 1) and the 227×227 input of its "Summary of
    /// Popular DNNs". Input sizes of CONV2–5 (27×27 after the first 3×3/2 max-pool, 13×13 after
    /// the second) and the paddings (2 for 5×5, 1 for 3×3) are AlexNet's (Krizhevsky et al.); they
    /// reproduce the survey's figures: 34k/307k/885k weights and 105M/224M/150M MACs for CONV1–3,
    /// 2.3M weights and 666M MACs for all five (checked by ConvTests).
    ///
    /// Grouping: the original CONV2, CONV4 and CONV5 are split into two groups (one per GPU),
    /// each filter seeing half the input channels. The survey lists C per group (48, 192, 192),
    /// and we model each as one dense layer with that C and all M filters: the same weights
    /// and MACs as the grouped layer, but the input tensor of one group (e.g. CONV2 reads
    /// 27×27×48, not 27×27×96), so DRAM input reads are half the grouped layer's.
    public static let alexnet: [ConvLayer] = [
        ConvLayer(name: "alexnet-conv1", shape: ConvShape(channels: 3, filters: 96, height: 227, width: 227,
                                                          filterHeight: 11, filterWidth: 11, stride: 4, padding: 0)),
        ConvLayer(name: "alexnet-conv2", shape: ConvShape(channels: 48, filters: 256, height: 27, width: 27,
                                                          filterHeight: 5, filterWidth: 5, stride: 1, padding: 2)),
        ConvLayer(name: "alexnet-conv3", shape: ConvShape(channels: 256, filters: 384, height: 13, width: 13,
                                                          filterHeight: 3, filterWidth: 3, stride: 1, padding: 1)),
        ConvLayer(name: "alexnet-conv4", shape: ConvShape(channels: 192, filters: 384, height: 13, width: 13,
                                                          filterHeight: 3, filterWidth: 3, stride: 1, padding: 1)),
        ConvLayer(name: "alexnet-conv5", shape: ConvShape(channels: 192, filters: 256, height: 13, width: 13,
                                                          filterHeight: 3, filterWidth: 3, stride: 1, padding: 1)),
    ]

    /// LeNet-5's convolution layers (LeCun et al., Proc. IEEE 1998): C1 on the 32×32 padded digit, C3 on the
    /// 14×14×6 output of S2, fully connected to all six channels (the original's partial
    /// connection table is not modelled). Sze et al. (2017) list LeNet-5 with 5×5 filters, 1 and 6
    /// channels, 6 and 16 filters, stride 1 and 2.6k weights (150 + 2400 = 2550 here); its
    /// 283k MACs are below the 117.6k + 240k = 357.6k of the dense C3 (the table's C3 uses
    /// 60 of the 96 channel pairs).
    public static let lenet: [ConvLayer] = [
        ConvLayer(name: "lenet-c1", shape: ConvShape(channels: 1, filters: 6, height: 32, width: 32, filterHeight: 5, filterWidth: 5)),
        ConvLayer(name: "lenet-c3", shape: ConvShape(channels: 6, filters: 16, height: 14, width: 14, filterHeight: 5, filterWidth: 5)),
    ]

    /// Scaled-down layers small enough to co-simulate in seconds (a few hundred outputs):
    /// each keeps a feature of a real layer (padding, stride 2, 5×5, AlexNet CONV1's 11×11/4).
    public static let small: [ConvLayer] = [
        ConvLayer(name: "tiny", shape: ConvShape(channels: 2, filters: 3, height: 5, width: 5, filterHeight: 3, filterWidth: 3, padding: 1)),
        ConvLayer(name: "small-stride2", shape: ConvShape(batch: 2, channels: 3, filters: 5, height: 7, width: 7,
                                                          filterHeight: 3, filterWidth: 3, stride: 2, padding: 1)),
        ConvLayer(name: "small-5x5", shape: ConvShape(channels: 2, filters: 4, height: 8, width: 8, filterHeight: 5, filterWidth: 5, padding: 2)),
        ConvLayer(name: "alexnet-conv1-mini", shape: ConvShape(channels: 3, filters: 8, height: 19, width: 19,
                                                               filterHeight: 11, filterWidth: 11, stride: 4)),
        ConvLayer(name: "lenet-c3-mini", shape: ConvShape(channels: 6, filters: 5, height: 8, width: 8, filterHeight: 5, filterWidth: 5)),
    ]

    public static let all: [ConvLayer] = alexnet + lenet + small

    /// Names accepted by `--layer` besides single layers: whole networks.
    public static let groups: [String: [ConvLayer]] = ["alexnet": alexnet, "lenet": lenet, "small": small]
}
