//! Render tests, one binary: golden-image checks of the compositor.
#![allow(clippy::unwrap_used)]

mod compose;
