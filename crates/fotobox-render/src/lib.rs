//! Fotobox render: print layouts as data, compositing shots into them, the staff's calibration sheet, and QR codes. Pure,
//! blocking functions: no database, no async runtime, no config file (callers pass values).
//!
//! Architecture Invariant: this crate depends on no other fotobox crate.

pub mod calibration;
pub mod compose;
pub mod files;
pub mod layouts;
pub mod overlay;
pub mod qr;
pub mod resize;
pub mod samples;
