//! `ps --filter ancestor=IMAGE` as dockerd answers it (`daemon/list.go`, `foldFilter`): each
//! value resolved to an image (`GetImage`; a value that names none is skipped, with a warning
//! in dockerd's log), that image and all its descendants (`Children`, recursively) collected,
//! and a Docker container kept when its image ID is one of them (none when no value resolved).
//!
//! Where the images and their parent links are:
//!
//! ```text
//! graph driver (dockerd 20.10 to 27, no containerd image store): dockerd's image store,
//!   read as dockerd restores it (graph_images.rs: GraphImages::resolve, children), a child
//!   being an image whose imagedb/metadata/sha256/<hex>/parent names the parent's ID
//! containerd image store (dockerd 28): the image records of namespace moby, a child being a
//!   record whose label org.mobyproject.image.parent is the parent's ID (Inspector::image_children)
//! ```

use std::collections::HashSet;

/// A loop met in the parent links: `child`'s parent is `parent`, which descends from `child`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loop {
    pub parent: String,
    pub child: String,
}

/// dockerd's `populateImageFilterByParents`: `root` and everything below it through
/// `children`, into `set`. An image already in `set` (from an earlier value) is not walked
/// again. dockerd marks an image only once its children are done, so a loop in the links
/// recurses without end there (its stack overflows and the daemon dies); here the walk keeps
/// a stack of its own, goes round a loop once, and returns the link that closed it.
pub fn add_family(set: &mut HashSet<String>, root: &str, children: &mut dyn FnMut(&str) -> Vec<String>) -> Vec<Loop> {
    let mut loops = Vec::new();
    if set.contains(root) {
        return loops;
    }
    // (image, its children not yet visited), the path from the root down.
    let mut stack: Vec<(String, std::vec::IntoIter<String>)> = Vec::new();
    let mut on_path: HashSet<String> = HashSet::new();
    let mut kids = children(root);
    kids.sort();
    kids.dedup();
    on_path.insert(root.to_string());
    stack.push((root.to_string(), kids.into_iter()));
    while let Some((id, rest)) = stack.last_mut() {
        match rest.next() {
            Some(child) => {
                if set.contains(&child) {
                    continue;
                }
                if on_path.contains(&child) {
                    loops.push(Loop {
                        parent: id.clone(),
                        child,
                    });
                    continue;
                }
                let mut kids = children(&child);
                kids.sort();
                kids.dedup();
                on_path.insert(child.clone());
                stack.push((child, kids.into_iter()));
            }
            None => {
                let done = id.clone();
                stack.pop();
                on_path.remove(&done);
                set.insert(done);
            }
        }
    }
    loops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree<'a>(links: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Vec<String> + 'a {
        move |id: &str| {
            links
                .iter()
                .filter(|(p, _)| *p == id)
                .map(|(_, c)| c.to_string())
                .collect()
        }
    }

    #[test]
    fn a_family_is_the_image_and_all_below_it() {
        let links = [("a", "b"), ("b", "c"), ("b", "d"), ("x", "y")];
        let mut set = HashSet::new();
        assert!(add_family(&mut set, "b", &mut tree(&links)).is_empty());
        let mut got: Vec<_> = set.iter().cloned().collect();
        got.sort();
        assert_eq!(got, ["b", "c", "d"]);
        // An image already collected stops the walk, as dockerd's map does.
        assert!(add_family(&mut set, "a", &mut tree(&links)).is_empty());
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn a_loop_in_the_parent_links_ends_and_is_named() {
        let links = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "c")];
        let mut set = HashSet::new();
        let loops = add_family(&mut set, "a", &mut tree(&links));
        assert_eq!(set.len(), 3);
        assert_eq!(
            loops,
            [
                Loop {
                    parent: "c".into(),
                    child: "a".into()
                },
                Loop {
                    parent: "c".into(),
                    child: "c".into()
                }
            ]
        );
    }
}
