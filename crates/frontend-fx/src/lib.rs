//! `trtfx-frontend-fx`: imports `.pt2` archives written by `torch.export.save` into a [`trtfx_ir::Program`].
