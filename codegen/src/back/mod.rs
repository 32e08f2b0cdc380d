//! Back-ends: a planned model → code. Today only [`rust`].

pub mod rust;
