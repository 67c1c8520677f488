//! Image-level vocabulary shared by inspect and the listings: Docker references, platforms,
//! and the JSON documents (manifests, indexes, configs) of the content store.

pub mod document;
pub mod goshape;
pub mod platform;
pub mod reference;
