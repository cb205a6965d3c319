// Package cost computes what one inference of a network costs in
// hardware terms, exactly, from its architecture and its weight codes: the
// weight memory, the activation memory, the operations by kind, the
// weight traffic and the energy, and (measured) the latency on this
// machine.
//
// # What is counted
//
// Of (or Compute on a packed.Description) walks the model as the packed
// engine runs it (packed.Describe: BatchNorm folded, dropout dropped, an
// activation after a dense or conv layer fused into it). Operation counts
// are per sample and do not depend on the batch:
//
//   - weight storage: WeightBytes is packed.StoredBytes (codes at b bits,
//     4-byte steps and biases; 4 bytes per parameter for a float model).
//     EntropyBits is the Shannon entropy of each quantized layer's codes,
//     averaged over weights: the bits per weight an ideal entropy coder
//     would reach; EntropyBytes adds the steps and biases.
//   - activation RAM: the peak number of activation values live at once,
//     times the activation precision: 8 bits for a quantized model (the
//     packed engine codes every layer's input to 8 bits), 32 for a float
//     one. A dense, conv or max-pool stage holds its input and its output;
//     a standalone activation or signal quantizer works in place; the
//     input counts. Integer accumulators (one output at a time in
//     hardware) are not counted. At batch B the whole batch is live:
//     ActRAMBytesBatch = B * ActRAMBytes.
//   - operations: a float layer costs one float32 MAC per weight and
//     output position and one float32 bias add per output (FP32MACs,
//     FP32Adds); an 8-bit layer one int8 x int8 MAC per weight and position
//     (Int8MACs); a 3..7-bit layer one b-bit x int8 MAC (LowBitMACs), zero
//     codes included (a dense multiplier array does not skip them); a
//     ternary layer one addition or subtraction per NONZERO code and
//     position (TernaryAdds): a zero weight costs nothing and no weight
//     needs a multiplier. Every output of a quantized layer is rescaled
//     once (Rescales): one int32 multiply by the fixed-point scale and one
//     int32 add of the bias, as in integer-only inference (Jacob et al.,
//     CVPR 2018). Activation functions, pooling and the activation
//     quantization itself are not counted.
//   - weight traffic: every weight byte is read once per inference at batch
//     1 (WeightTrafficBytes = WeightBytes) and once per batch at batch B.
//   - energy: ops priced by a Table, plus the weight reads in 32-bit words
//     (ceil(WeightBytes/4)), from SRAM when WeightBytes <= the table's
//     OnChipBytes, else from DRAM. A float MAC costs fp32 mult + fp32 add;
//     an int8 or low-bit MAC int8 mult + int32 add (a b-bit weight fits
//     the 8-bit multiplier; accumulation is 32-bit); a ternary add an int32
//     add; a rescale int32 mult + int32 add. EnergyPJ is one inference at
//     batch 1, EnergyPJPerSample one sample at batch B (weight reads shared
//     by the batch).
//
// Reprice recomputes the energies from the counts with another table, so
// records written with the default table can be read with a user's own.
//
// # The energy table
//
// DefaultTable is M. Horowitz, "Computing's energy problem (and what we
// can do about it)", ISSCC 2014, 45 nm: int8 add 0.03 pJ, int32 add 0.1,
// fp32 add 0.9, int8 mult 0.2, int32 mult 3.1, fp32 mult 3.7, a 32-bit read
// from an 8 KB SRAM 5 pJ and from DRAM 640 pJ; weights are on-chip up to
// 128 KiB. The SRAM figure is for 8 KB: larger memories cost more per
// access, so for large on-chip memories the table is optimistic. The
// table is a small YAML file (horowitz45nm.yaml, embedded; DefaultTableSource
// prints it) that a user replaces with their own (LoadTable, the
// --cost-table flag): every key is required, unknown keys, repeated keys
// and negative or non-numeric values are errors naming the file and line.
//
// # Latency
//
// MeasurePacked times the packed engine's Infer at batch 1 and 100 (float
// models: MeasureFloat, nn's forward pass), fastest of five rounds of at
// least 20 ms each. It must run alone: a sweep measures latency after all
// its cells have finished, never beside a running cell.
//
// # Invariants
//
// Figures depend only on the architecture, the codes and the table: the
// same model gives the same figures on every machine (Latency aside).
// Version changes when what a figure counts changes.
package cost
