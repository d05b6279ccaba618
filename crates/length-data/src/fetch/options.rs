//! [`FetchOptions`]: when a download gives up (low speed, deadline), and how large it may grow.

use crate::error::DataError;
use std::time::Duration;

/// The environment variable overriding [`FetchOptions::min_bytes_per_second`].
pub const MIN_SPEED_ENV: &str = "LENGTH_FETCH_MIN_SPEED";
/// The environment variable overriding [`FetchOptions::low_speed_window`], in seconds.
pub const SPEED_WINDOW_ENV: &str = "LENGTH_FETCH_SPEED_WINDOW";
/// The environment variable setting [`FetchOptions::deadline`], in seconds.
pub const DEADLINE_ENV: &str = "LENGTH_FETCH_DEADLINE";

/// The deadline of a file is this long, plus the time its size takes at [`DEADLINE_RATE`].
const DEADLINE_BASE: Duration = Duration::from_secs(60);
/// The slowest average rate (bytes per second) the derived deadline allows for: 100 KiB/s.
const DEADLINE_RATE: u64 = 100 * 1024;
/// The body cap's allowance beyond twice the expected size: 1 MiB.
const CAP_MARGIN: u64 = 1024 * 1024;

/// When a download gives up, and how large it may grow.
///
/// A transfer is abandoned, and the next source tried, when any of these happens:
///
/// | limit | default | environment variable |
/// |---|---|---|
/// | **low speed**: fewer than `min_bytes_per_second` arrive, averaged over a window of `low_speed_window` (checked window after window; a read that waits a whole window counts too) | 1 KiB/s over 30 s | `LENGTH_FETCH_MIN_SPEED` (bytes per second), `LENGTH_FETCH_SPEED_WINDOW` (seconds) |
/// | **deadline**: the file is not complete this long after the request | 60 s + size / (100 KiB/s): 8.7 min for MNIST's training images | `LENGTH_FETCH_DEADLINE` (seconds) |
/// | **size cap**: the body grows beyond `2 · size + 1 MiB` | from the catalogued size | — |
///
/// `size` is the file's decompressed size from the catalogue ([`KnownFile::size`]). A host may
/// send the file compressed (a fifth of that for MNIST) or not; both fit under the cap, while an
/// endless or absurd body is cut off there instead of filling the disk.
///
/// ```
/// use length_data::DataSetName;
/// use length_data::fetch::{FetchOptions, FetchPlan};
/// use std::time::Duration;
///
/// // Give up on a host that sends less than 10 KiB/s over 5 s, or takes more than 2 minutes.
/// let options = FetchOptions {
///     min_bytes_per_second: 10 * 1024,
///     low_speed_window: Duration::from_secs(5),
///     deadline: Some(Duration::from_secs(120)),
/// };
/// let plan = FetchPlan::for_data_set(DataSetName::Mnist).with_options(options);
/// assert_eq!(plan.options.deadline_for(47_040_016), Duration::from_secs(120));
/// ```
///
/// [`KnownFile::size`]: crate::catalog::KnownFile::size
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Give up when fewer bytes than this per second arrive, averaged over
    /// [`low_speed_window`](FetchOptions::low_speed_window). Default 1024.
    pub min_bytes_per_second: u64,
    /// The span the low-speed limit averages over. Default 30 s.
    pub low_speed_window: Duration,
    /// Give up when a file is not complete after this long. Default `None`: derived from the
    /// file's size ([`FetchOptions::deadline_for`]).
    pub deadline: Option<Duration>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            min_bytes_per_second: 1024,
            low_speed_window: Duration::from_secs(30),
            deadline: None,
        }
    }
}

impl FetchOptions {
    /// The defaults, overridden by `LENGTH_FETCH_MIN_SPEED`, `LENGTH_FETCH_SPEED_WINDOW` and
    /// `LENGTH_FETCH_DEADLINE` where they are set (and not empty).
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidOption`] if a variable is not a whole number (or the window is 0).
    pub fn from_env() -> Result<FetchOptions, DataError> {
        let mut options = FetchOptions::default();
        if let Some(speed) = env_number(MIN_SPEED_ENV)? {
            options.min_bytes_per_second = speed;
        }
        if let Some(seconds) = env_number(SPEED_WINDOW_ENV)? {
            if seconds == 0 {
                return Err(DataError::InvalidOption(format!(
                    "{SPEED_WINDOW_ENV} must be at least 1 (seconds)"
                )));
            }
            options.low_speed_window = Duration::from_secs(seconds);
        }
        if let Some(seconds) = env_number(DEADLINE_ENV)? {
            options.deadline = Some(Duration::from_secs(seconds));
        }
        Ok(options)
    }

    /// How long a file of `size` (decompressed) bytes may take: [`FetchOptions::deadline`] if
    /// set, else 60 s plus the time `size` takes at 100 KiB/s.
    ///
    /// ```
    /// use length_data::fetch::FetchOptions;
    /// use std::time::Duration;
    ///
    /// let options = FetchOptions::default();
    /// // MNIST's training images, 47 MB decompressed: 60 s + 459 s.
    /// assert_eq!(options.deadline_for(47_040_016), Duration::from_secs(519));
    /// ```
    pub fn deadline_for(&self, size: u64) -> Duration {
        self.deadline
            .unwrap_or(DEADLINE_BASE + Duration::from_secs(size / DEADLINE_RATE))
    }

    /// The most bytes a download of a file of `size` (decompressed) bytes may bring:
    /// `2 · size + 1 MiB`.
    ///
    /// ```
    /// use length_data::fetch::FetchOptions;
    ///
    /// assert_eq!(FetchOptions::body_cap(10_008), 2 * 10_008 + 1024 * 1024);
    /// ```
    pub fn body_cap(size: u64) -> u64 {
        size.saturating_mul(2).saturating_add(CAP_MARGIN)
    }
}

/// The whole number in environment variable `name`, if it is set and not empty.
fn env_number(name: &str) -> Result<Option<u64>, DataError> {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => text.trim().parse().map(Some).map_err(|_| {
            DataError::InvalidOption(format!("{name}={text:?} is not a whole number"))
        }),
        _ => Ok(None),
    }
}
