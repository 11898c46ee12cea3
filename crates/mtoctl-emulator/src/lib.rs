//! The mtoctl emulator (work in progress).
