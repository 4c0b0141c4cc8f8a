//! Placeholder until the masking module lands.
