//! `trtfx-backend-trt`: capability validators, converters, network builders (TensorRT FFI and a recorded network with a CPU layer emulator) and engines.
