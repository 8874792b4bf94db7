//! A pointer-sized owner of one of two encodings: a compact thin block or a boxed big form.
//!
//! Collections switch between a small encoding (a byte block behind a thin pointer) and a big
//! one (a boxed struct). An enum of the two takes two words; this takes one, telling them apart
//! by the pointer's lowest bit (the block is allocated 2-aligned, so its address is even; the
//! box's address, tagged, is odd). Keeping hash and set values one word lets `Object` stay two
//! words, so a collection key's object is as small as the allocator allows.

use std::marker::PhantomData;
use std::ptr::NonNull;

/// A thin owned block that can live untagged in a [`Tagged`].
///
/// # Safety
/// Implementors must be `#[repr(transparent)]` over a `NonNull<u8>` whose address is always
/// even (the block is allocated with alignment 2 or more), including after any `&mut self`
/// method replaces it; `into_raw`/`from_raw` must round-trip ownership.
pub unsafe trait ThinBlock: Sized {
    fn into_raw(self) -> NonNull<u8>;
    /// # Safety
    /// `raw` must come from `into_raw` and be owned by the caller.
    unsafe fn from_raw(raw: NonNull<u8>) -> Self;
}

/// Borrowed view of the encoding in use.
pub enum Ref<'a, A, B> {
    Small(&'a A),
    Big(&'a B),
}

/// Mutable view of the encoding in use.
pub enum Mut<'a, A, B> {
    Small(&'a mut A),
    Big(&'a mut B),
}

/// Either an `A` (thin block, untagged) or a `Box<B>` (tagged), in one word.
#[repr(transparent)]
pub struct Tagged<A: ThinBlock, B> {
    word: NonNull<u8>,
    _owns: PhantomData<(A, Box<B>)>,
}

// Owns an A or a Box<B>.
unsafe impl<A: ThinBlock + Send, B: Send> Send for Tagged<A, B> {}
unsafe impl<A: ThinBlock + Sync, B: Sync> Sync for Tagged<A, B> {}

impl<A: ThinBlock, B> Tagged<A, B> {
    const ASSERT_ALIGN: () = assert!(std::mem::align_of::<B>() >= 2);

    pub fn small(a: A) -> Self {
        let word = a.into_raw();
        debug_assert!(word.as_ptr().addr() & 1 == 0, "thin blocks are 2-aligned");
        Tagged { word, _owns: PhantomData }
    }

    pub fn big(b: Box<B>) -> Self {
        #[allow(clippy::let_unit_value)]
        let _ = Self::ASSERT_ALIGN;
        let raw = Box::into_raw(b) as *mut u8;
        // Setting the low bit of an (at least 2-aligned) box pointer keeps it non-null.
        let word = NonNull::new(raw.wrapping_add(1)).expect("tagged pointer is non-null");
        Tagged { word, _owns: PhantomData }
    }

    fn is_big(&self) -> bool {
        self.word.as_ptr().addr() & 1 == 1
    }

    fn big_ptr(&self) -> *mut B {
        self.word.as_ptr().wrapping_sub(1) as *mut B
    }

    pub fn get(&self) -> Ref<'_, A, B> {
        if self.is_big() {
            // SAFETY: a tagged word is a live Box<B> pointer plus one.
            Ref::Big(unsafe { &*self.big_ptr() })
        } else {
            // SAFETY: A is repr(transparent) over the untagged word, which we own.
            Ref::Small(unsafe { &*(self as *const Self as *const A) })
        }
    }

    pub fn get_mut(&mut self) -> Mut<'_, A, B> {
        if self.is_big() {
            // SAFETY: as in `get`; &mut self is exclusive.
            Mut::Big(unsafe { &mut *self.big_ptr() })
        } else {
            // SAFETY: as in `get`; A keeps the word even when it replaces it (ThinBlock).
            Mut::Small(unsafe { &mut *(self as *mut Self as *mut A) })
        }
    }
}

impl<A: ThinBlock, B> Drop for Tagged<A, B> {
    fn drop(&mut self) {
        if self.is_big() {
            // SAFETY: the tagged word came from Box::into_raw in `big`.
            drop(unsafe { Box::from_raw(self.big_ptr()) });
        } else {
            // SAFETY: the untagged word came from A::into_raw in `small`.
            drop(unsafe { A::from_raw(self.word) });
        }
    }
}

/// Alignment of thin blocks: enough to leave the low bit free for the tag.
const BLOCK_ALIGN: usize = 2;

/// Allocates a zeroed 2-aligned block of `size` (> 0) bytes and lets `fill` write it.
pub fn alloc_block(size: usize, fill: impl FnOnce(&mut [u8])) -> NonNull<u8> {
    let layout = std::alloc::Layout::from_size_align(size.max(1), BLOCK_ALIGN).expect("block size overflow");
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    let Some(p) = NonNull::new(p) else { std::alloc::handle_alloc_error(layout) };
    // SAFETY: the block is `size` bytes we own and just zeroed.
    fill(unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), size) });
    p
}

/// Resizes a block from [`alloc_block`] of `old` bytes to `new` (> 0) bytes, keeping the first
/// `min(old, new)` bytes (the rest is uninitialized: the caller writes it).
///
/// # Safety
/// `p` must come from `alloc_block(old, …)` (or this function with size `old`) and not be
/// used afterwards; use the returned block instead.
pub unsafe fn realloc_block(p: NonNull<u8>, old: usize, new: usize) -> NonNull<u8> {
    let layout = std::alloc::Layout::from_size_align_unchecked(old.max(1), BLOCK_ALIGN);
    let q = std::alloc::realloc(p.as_ptr(), layout, new.max(1));
    match NonNull::new(q) {
        Some(q) => q,
        None => std::alloc::handle_alloc_error(std::alloc::Layout::from_size_align_unchecked(new.max(1), BLOCK_ALIGN)),
    }
}

/// Frees a block from [`alloc_block`].
///
/// # Safety
/// `p` must come from `alloc_block(size, …)` and not be used afterwards.
pub unsafe fn free_block(p: NonNull<u8>, size: usize) {
    std::alloc::dealloc(p.as_ptr(), std::alloc::Layout::from_size_align_unchecked(size.max(1), BLOCK_ALIGN));
}

#[cfg(test)]
mod tests {
    use super::super::hash::Hash;
    use super::super::hash_pack::PackedPairs;
    use super::super::set::Set;
    use super::*;

    #[test]
    fn small_and_big_round_trip() {
        let mut t: Tagged<PackedPairs, Vec<u64>> = Tagged::small(PackedPairs::new());
        match t.get_mut() {
            Mut::Small(p) => {
                p.set(b"f", b"v");
            }
            Mut::Big(_) => panic!("small expected"),
        }
        assert!(matches!(t.get(), Ref::Small(p) if p.get(b"f") == Some(&b"v"[..])));
        t = Tagged::big(Box::new(vec![1, 2, 3]));
        match t.get_mut() {
            Mut::Big(v) => v.push(4),
            Mut::Small(_) => panic!("big expected"),
        }
        assert!(matches!(t.get(), Ref::Big(v) if v.len() == 4));
    }

    #[test]
    fn collection_values_are_one_word() {
        assert_eq!(std::mem::size_of::<Hash>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Set>(), std::mem::size_of::<usize>());
    }
}
