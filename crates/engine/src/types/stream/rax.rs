//! The node count of Redis's radix tree over a set of keys, for XINFO STREAM's
//! `radix-tree-nodes`.
//!
//! We index stream nodes with an ordered map, not a radix tree, but XINFO reports the size
//! Redis's tree would have. A rax holding a set of keys has a canonical shape: a run of
//! bytes shared by every key below a point is one compressed node, a point where keys
//! diverge is a branching node with one child per distinct byte, and every key ends in a
//! (childless) node. An empty tree is its root alone.

/// Nodes of a rax holding `keys` (sorted, distinct, all the same length).
pub fn node_count(keys: &[[u8; 16]]) -> usize {
    if keys.is_empty() {
        return 1;
    }
    count(keys, 0)
}

fn count(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    // Sorted keys: the prefix shared by the first and the last is shared by all.
    let shared = first[depth..].iter().zip(&last[depth..]).take_while(|(a, b)| a == b).count();
    if shared > 0 {
        return 1 + count(keys, depth + shared);
    }
    let mut total = 1;
    let mut start = 0;
    while start < keys.len() {
        let byte = keys[start][depth];
        let end = start + keys[start..].iter().take_while(|k| k[depth] == byte).count();
        total += count(&keys[start..end], depth + 1);
        start = end;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ms: u64, seq: u64) -> [u8; 16] {
        crate::types::stream::StreamId::new(ms, seq).to_be_bytes()
    }

    #[test]
    fn canonical_shapes() {
        assert_eq!(node_count(&[]), 1);
        // Root compressed over all 16 bytes, then the key's leaf.
        assert_eq!(node_count(&[key(1, 0)]), 2);
        // Shared 15 bytes (compressed), a branch, two leaves.
        assert_eq!(node_count(&[key(1, 0), key(1, 1)]), 4);
        // Diverging at byte 7: compressed(7) + branch + 2 × (compressed(8) + leaf).
        assert_eq!(node_count(&[key(1, 0), key(2, 0)]), 6);
    }
}
