//! Where images come from besides a containerd root: archive files read in place.

pub mod tar;
