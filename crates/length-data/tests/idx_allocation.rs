//! A hostile header must not make the reader allocate what it claims. This test binary counts
//! every allocation (its own global allocator) and checks that reading files whose headers
//! promise gigabytes allocates about as much as the bytes that really arrive.

use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::idx::{IdxError, parse_idx, read_idx};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, remembering the largest single allocation since the last reset.
struct LargestAllocation;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// The tests share the counter: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn largest_allocation_while(f: impl FnOnce()) -> usize {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    LARGEST.store(0, Ordering::Relaxed);
    f();
    LARGEST.load(Ordering::Relaxed)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An IDX header of type `element_code` and the given dimensions, followed by `present` bytes.
fn hostile(element_code: u8, dimensions: &[u32], present: usize) -> Vec<u8> {
    let mut bytes = vec![0, 0, element_code, dimensions.len() as u8];
    for d in dimensions {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend((0..present).map(|i| i as u8));
    bytes
}

const MIB: usize = 1024 * 1024;

#[test]
fn raw_input_claiming_4_gib_allocates_nothing_large() {
    let bytes = hostile(0x08, &[u32::MAX], 1000);
    let largest = largest_allocation_while(|| {
        let error = parse_idx(&bytes).unwrap_err();
        assert!(
            matches!(error, IdxError::Truncated { found: 1000, .. }),
            "{error}"
        );
        let error = read_idx(&bytes[..]).unwrap_err();
        assert!(
            matches!(error, IdxError::Truncated { found: 1000, .. }),
            "{error}"
        );
    });
    assert!(largest < MIB, "largest allocation {largest} bytes");
}

#[test]
fn gzip_input_claiming_128_tib_allocates_about_what_arrives() {
    // 3 MiB of real data behind a header promising 2^47 bytes (i16 × 0xFFFFFFFF × 0x4000).
    let present = 3 * MIB;
    let compressed = gzip(&hostile(0x0B, &[u32::MAX, 0x4000], present));
    let largest = largest_allocation_while(|| {
        let error = parse_idx(&compressed).unwrap_err();
        assert!(
            matches!(error, IdxError::Truncated { found, .. } if found == present as u64),
            "{error}"
        );
    });
    // The buffer grows by at most what has arrived: below twice the real size.
    assert!(
        largest < 2 * present,
        "largest allocation {largest} bytes for {present} real bytes"
    );
}

#[test]
fn a_valid_gzip_file_needs_no_more_than_its_content() {
    let n = 5 * MIB;
    let compressed = gzip(&hostile(0x08, &[n as u32], n));
    let largest = largest_allocation_while(|| {
        assert_eq!(parse_idx(&compressed).unwrap().shape(), &[n]);
    });
    assert!(
        largest <= n,
        "largest allocation {largest} bytes for {n} bytes of content"
    );
}
