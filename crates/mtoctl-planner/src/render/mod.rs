//! Rendering plans for people. Renderers read only a [`mtoctl_model::plan::Plan`], so a saved plan renders
//! the same offline (`mtoctl show`). JSON is the plan's serde form and needs no renderer.

pub mod markdown;
pub mod text;
