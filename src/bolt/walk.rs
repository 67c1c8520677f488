//! A whole-tree walk: every key of every bucket under a starting bucket, depth-first in key
//! order, with one visited set for the whole walk so no page is entered twice. Damage is
//! handed to the visitor and the walk continues with the next element.

use super::{BoltError, Bucket, Item, Visited};

/// What a walk reports, in order.
pub trait Visitor<'a> {
    /// A key of the bucket whose enclosing names are `names`. For a nested bucket
    /// (`item.is_bucket`), its own keys follow with `item.key` pushed onto `names`.
    fn item(&mut self, names: &[&'a [u8]], item: &Item<'a>) -> std::io::Result<()>;
    /// Damage met along the way.
    fn damage(&mut self, error: BoltError);
}

/// Walks everything under `bucket`, whose own path is `names`.
pub fn walk<'a>(bucket: &Bucket<'a>, names: &mut Vec<&'a [u8]>, visitor: &mut dyn Visitor<'a>) -> std::io::Result<()> {
    walk_with(bucket, names, visitor, &Visited::default())
}

fn walk_with<'a>(
    bucket: &Bucket<'a>,
    names: &mut Vec<&'a [u8]>,
    visitor: &mut dyn Visitor<'a>,
    visited: &Visited,
) -> std::io::Result<()> {
    for item in bucket.cursor_with(visited.clone()) {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                visitor.damage(e);
                continue;
            }
        };
        visitor.item(names, &item)?;
        if !item.is_bucket {
            continue;
        }
        match bucket.open_item(&item) {
            Ok(child) => {
                names.push(item.key);
                let r = walk_with(&child, names, visitor, visited);
                names.pop();
                r?;
            }
            Err(e) => visitor.damage(e),
        }
    }
    Ok(())
}

/// Counts keys and damage under `bucket`: a full walk that keeps nothing.
pub fn count(bucket: &Bucket<'_>) -> (u64, Vec<BoltError>) {
    struct Count(u64, Vec<BoltError>);
    impl Visitor<'_> for Count {
        fn item(&mut self, _: &[&[u8]], _: &Item<'_>) -> std::io::Result<()> {
            self.0 += 1;
            Ok(())
        }
        fn damage(&mut self, error: BoltError) {
            self.1.push(error);
        }
    }
    let mut c = Count(0, Vec::new());
    // Counting writes nothing, so the walk cannot fail with an I/O error.
    let _ = walk(bucket, &mut Vec::new(), &mut c);
    (c.0, c.1)
}
