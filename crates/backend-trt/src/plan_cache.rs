//! A content-addressed cache of built TensorRT plans, so compiling the same segment twice builds
//! it once (TensorRT builds take seconds to minutes; Torch-TensorRT's `cache_built_engines` /
//! `reuse_cached_engines` answer the same need, keyed by a graph hash).
//!
//! **Key.** SHA-256 over everything that determines the plan bytes:
//! - the recorded network: every layer call with its attributes, every tensor type, the
//!   marked outputs and the optimization profiles, plus each weight payload;
//! - the build settings that reach the builder: target architectures, workspace limit,
//!   optimization level (the timing-cache *path* does not change the plan and is left out);
//! - the TensorRT library's name and version.
//!
//! The recorded network is the canonical form of a segment: it is what the converters made of the
//! segment's IR, with its weights, and it is the only input of the build. Two segments that print
//! the same IR but read different weights get different keys, and a rename of an IR value that
//! changes nothing in the network keeps the key.
//!
//! **Entries.** One file per key, `<dir>/<key>.plan`, written to a temporary name and renamed,
//! so concurrent compiles never see half an entry. The file holds a magic line, a JSON header
//! (library version, settings, length and SHA-256 of the plan) and the plan bytes. An entry that
//! fails to read or check (truncated, overwritten, from another format version) is reported
//! with a warning and rebuilt; the cache never fails a compile.
//!
//! **Location.** `--cache DIR` on `ir-opt compile`; `--cache` alone uses [`PlanCache::default_dir`]:
//! `$TRTFX_CACHE_DIR`, else `$XDG_CACHE_HOME/trtfx/plans`, else `~/.cache/trtfx/plans`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::recorded::{LayerOp, RecordedNetwork};
use crate::refit::{weight_fields_mut, WeightRefs};
use crate::settings::{BuildSettings, SerializedEngine};

/// The first line of every entry; a new layout gets a new line, so old entries read as corrupt
/// and are rebuilt rather than misread.
const MAGIC: &[u8] = b"trtfx-plan-cache 1\n";

/// A directory of cached plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCache {
    dir: PathBuf,
}

/// What the cache did for one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    /// The plan came from the cache; no build ran.
    Hit {
        /// The entry's key.
        key: String,
    },
    /// No entry: the plan was built and stored.
    Stored {
        /// The entry's key.
        key: String,
    },
    /// The entry was unreadable; the plan was rebuilt and the entry replaced.
    Rebuilt {
        /// The entry's key.
        key: String,
        /// What was wrong with the old entry.
        warning: String,
    },
    /// The plan was built, but storing it failed (the compile still succeeds).
    NotStored {
        /// The entry's key.
        key: String,
        /// Why.
        warning: String,
    },
}

impl CacheUse {
    /// The entry's key.
    pub fn key(&self) -> &str {
        match self {
            CacheUse::Hit { key }
            | CacheUse::Stored { key }
            | CacheUse::Rebuilt { key, .. }
            | CacheUse::NotStored { key, .. } => key,
        }
    }

    /// The warning to show the user, if any.
    pub fn warning(&self) -> Option<&str> {
        match self {
            CacheUse::Rebuilt { warning, .. } | CacheUse::NotStored { warning, .. } => {
                Some(warning)
            }
            _ => None,
        }
    }

    /// `hit`, `stored`, `rebuilt` or `not stored`, for reports.
    pub fn describe(&self) -> &'static str {
        match self {
            CacheUse::Hit { .. } => "hit",
            CacheUse::Stored { .. } => "stored",
            CacheUse::Rebuilt { .. } => "rebuilt",
            CacheUse::NotStored { .. } => "not stored",
        }
    }
}

/// The header of an entry.
#[derive(Serialize, Deserialize)]
struct EntryHeader {
    trt_version: String,
    settings: BuildSettings,
    bytes: usize,
    sha256: String,
    #[serde(default)]
    stripped: bool,
}

/// The settings that reach the builder, in the key.
#[derive(Serialize)]
struct KeySettings<'a> {
    compute_capabilities: &'a [crate::settings::ComputeCapability],
    workspace_limit: Option<usize>,
    optimization_level: Option<i32>,
    strip_weights: bool,
}

impl PlanCache {
    /// A cache in `dir` (created on the first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PlanCache { dir: dir.into() }
    }

    /// The default directory: `$TRTFX_CACHE_DIR`, else `$XDG_CACHE_HOME/trtfx/plans`, else
    /// `$HOME/.cache/trtfx/plans`; `None` when none of these is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(d) = var("TRTFX_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        if let Some(d) = var("XDG_CACHE_HOME") {
            return Some(PathBuf::from(d).join("trtfx").join("plans"));
        }
        var("HOME").map(|h| PathBuf::from(h).join(".cache").join("trtfx").join("plans"))
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of building `network` with `settings` on the library `trt_version`
    /// (`TensorRT-RTX 1.7.1`): 64 hex digits.
    pub fn key(network: &RecordedNetwork, settings: &BuildSettings, trt_version: &str) -> String {
        Self::key_with_refs(network, settings, trt_version, &WeightRefs::new())
    }

    /// [`PlanCache::key`] of a network whose weight fields `refs` are program weights. With
    /// [`BuildSettings::strip_weights`] those payloads are not in the plan, so the key covers
    /// their names, types and sizes instead of their bytes: a model refitted with new weights
    /// (or a second compile, which need not hash hundreds of MB) gets the same key.
    pub fn key_with_refs(
        network: &RecordedNetwork,
        settings: &BuildSettings,
        trt_version: &str,
        refs: &WeightRefs,
    ) -> String {
        let stripped_refs = settings.strip_weights && !refs.is_empty();
        let mut h = Sha256::new();
        h.update(MAGIC);
        h.update(trt_version.as_bytes());
        h.update([0]);
        let s = KeySettings {
            compute_capabilities: &settings.compute_capabilities,
            workspace_limit: settings.workspace_limit,
            optimization_level: settings.optimization_level,
            strip_weights: stripped_refs,
        };
        h.update(serde_json::to_vec(&s).unwrap_or_default());
        h.update([0]);
        // The network without its payloads (JSON number arrays would be ~4x the bytes), then
        // each payload length-prefixed in layer order.
        let mut bare = network.clone();
        let mut payloads = Vec::new();
        for (i, layer) in bare.layers.iter_mut().enumerate() {
            for (field, w) in weight_fields_mut(&mut layer.op) {
                let bytes = std::mem::replace(&mut w.bytes, std::sync::Arc::from(Vec::new()));
                let name = refs.get(&format!("{i}.{field}")).filter(|_| stripped_refs);
                payloads.push((bytes, name));
            }
        }
        h.update(serde_json::to_vec(&bare).unwrap_or_default());
        for (p, name) in payloads {
            h.update((p.len() as u64).to_le_bytes());
            match name {
                // A stripped weight: its name (the refit handle) and size, not its bytes.
                Some(name) => {
                    h.update([1]);
                    h.update((name.len() as u64).to_le_bytes());
                    h.update(name.as_bytes());
                }
                None => {
                    h.update([0]);
                    h.update(&p);
                }
            }
        }
        hex(&h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.plan"))
    }

    /// The cached plan of `key`: `Ok(None)` when there is no entry, `Err(why)` when the entry
    /// exists but cannot be used.
    pub fn get(&self, key: &str) -> Result<Option<SerializedEngine>, String> {
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        decode_entry(&bytes).map(Some).map_err(|why| {
            format!(
                "{}: corrupt plan cache entry ({why}); rebuilding",
                path.display()
            )
        })
    }

    /// Stores `plan` under `key`.
    pub fn put(&self, key: &str, plan: &SerializedEngine) -> Result<(), String> {
        let path = self.path(key);
        let fail = |e: std::io::Error| format!("{}: cannot store the plan: {e}", path.display());
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let header = EntryHeader {
            trt_version: plan.trt_version.clone(),
            settings: plan.settings.clone(),
            bytes: plan.bytes.len(),
            sha256: hex(&Sha256::digest(&plan.bytes)),
            stripped: plan.stripped,
        };
        let header = serde_json::to_vec(&header).map_err(|e| fail(std::io::Error::other(e)))?;
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(&(header.len() as u64).to_le_bytes())?;
            f.write_all(&header)?;
            f.write_all(&plan.bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }

    /// The plan of `network`: from the cache when an entry is there and intact, else from
    /// `build` (then stored). `build` errors are returned as they are; cache problems only
    /// show in the [`CacheUse`].
    pub fn get_or_build<E>(
        &self,
        network: &RecordedNetwork,
        settings: &BuildSettings,
        trt_version: &str,
        build: impl FnOnce() -> Result<SerializedEngine, E>,
    ) -> Result<(SerializedEngine, CacheUse), E> {
        self.get_or_build_with_refs(network, settings, trt_version, &WeightRefs::new(), build)
    }

    /// [`PlanCache::get_or_build`] keyed by [`PlanCache::key_with_refs`].
    pub fn get_or_build_with_refs<E>(
        &self,
        network: &RecordedNetwork,
        settings: &BuildSettings,
        trt_version: &str,
        refs: &WeightRefs,
        build: impl FnOnce() -> Result<SerializedEngine, E>,
    ) -> Result<(SerializedEngine, CacheUse), E> {
        let key = Self::key_with_refs(network, settings, trt_version, refs);
        self.get_or_build_keyed(key, trt_version, build)
    }

    /// [`PlanCache::get_or_build`] for a key computed before (by [`PlanCache::key_with_refs`]
    /// with the same `trt_version`), so a caller that already looked the key up does not hash
    /// the network twice.
    pub fn get_or_build_keyed<E>(
        &self,
        key: String,
        trt_version: &str,
        build: impl FnOnce() -> Result<SerializedEngine, E>,
    ) -> Result<(SerializedEngine, CacheUse), E> {
        let broken = match self.get(&key) {
            Ok(Some(plan)) if plan.trt_version == trt_version => {
                return Ok((plan, CacheUse::Hit { key }))
            }
            Ok(Some(plan)) => Some(format!(
                "{}: entry built by {}, not {trt_version}; rebuilding",
                self.path(&key).display(),
                plan.trt_version
            )),
            Ok(None) => None,
            Err(why) => Some(why),
        };
        let plan = build()?;
        let used = match (self.put(&key, &plan), broken) {
            (Err(warning), _) => CacheUse::NotStored { key, warning },
            (Ok(()), Some(warning)) => CacheUse::Rebuilt { key, warning },
            (Ok(()), None) => CacheUse::Stored { key },
        };
        Ok((plan, used))
    }
}

/// The first line of a library stamp file.
const LIBRARY_MAGIC: &str = "trtfx-library-version 1";

impl PlanCache {
    /// The intact entry of `key` built by `trt_version`, if there is one. Anything else (no
    /// entry, a corrupt one, one from another library) is `None`: the caller then goes the
    /// long way, through [`PlanCache::get_or_build_keyed`], which reports and rebuilds it.
    pub fn lookup(&self, key: &str, trt_version: &str) -> Option<SerializedEngine> {
        match self.get(key) {
            Ok(Some(plan)) if plan.trt_version == trt_version => Some(plan),
            _ => None,
        }
    }

    /// The version that the library file `lib` reported when it was last loaded with this
    /// cache, if the file is still the same one: same canonical path, size and modification
    /// time. Loading TensorRT-RTX (a 234 MB library) costs more than the rest of a compile whose
    /// plans are all cached, so a cache hit asks the stamp instead of the library. A library
    /// replaced in place gets a new stamp, so its version is asked again.
    pub fn known_library_version(&self, lib: &Path) -> Option<String> {
        let (stamp, canonical) = library_stamp(lib)?;
        let text = std::fs::read_to_string(self.library_stamp_path(&stamp)).ok()?;
        let mut lines = text.lines();
        (lines.next()? == LIBRARY_MAGIC && lines.next()? == canonical)
            .then(|| lines.next())
            .flatten()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Records that the library file `lib` reports `version`, for
    /// [`PlanCache::known_library_version`]. Best effort: the stamp only saves time.
    pub fn remember_library_version(&self, lib: &Path, version: &str) -> Result<(), String> {
        let Some((stamp, canonical)) = library_stamp(lib) else {
            return Ok(());
        };
        if self.known_library_version(lib).as_deref() == Some(version) {
            return Ok(());
        }
        let path = self.library_stamp_path(&stamp);
        let fail = |e: std::io::Error| format!("{}: cannot store: {e}", path.display());
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let tmp = self
            .dir
            .join(format!(".lib-{stamp}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, format!("{LIBRARY_MAGIC}\n{canonical}\n{version}\n"))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                fail(e)
            })
    }

    fn library_stamp_path(&self, stamp: &str) -> PathBuf {
        self.dir.join(format!("lib-{stamp}.version"))
    }
}

/// The identity of a library file (canonical path, size, modification time), hashed, and its
/// canonical path; `None` when the file cannot be inspected (a bare name for the dynamic loader).
fn library_stamp(lib: &Path) -> Option<(String, String)> {
    let canonical = std::fs::canonicalize(lib).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let canonical = canonical.to_str()?.to_string();
    let mut h = Sha256::new();
    h.update(canonical.as_bytes());
    h.update([0]);
    h.update(meta.len().to_le_bytes());
    h.update(mtime.as_nanos().to_le_bytes());
    Some((hex(&h.finalize()[..8]), canonical))
}

/// Reads an entry written by [`PlanCache::put`].
fn decode_entry(bytes: &[u8]) -> Result<SerializedEngine, String> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("not a trtfx plan cache entry of this version")?;
    let len = rest
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or("truncated header")?;
    let len = usize::try_from(len).map_err(|_| "header length out of range")?;
    let header = rest
        .get(8..8usize.saturating_add(len))
        .ok_or("truncated header")?;
    let header: EntryHeader =
        serde_json::from_slice(header).map_err(|e| format!("invalid header: {e}"))?;
    let plan = &rest[8 + len..];
    if plan.len() != header.bytes {
        return Err(format!(
            "{} plan bytes, the header says {}",
            plan.len(),
            header.bytes
        ));
    }
    if hex(&Sha256::digest(plan)) != header.sha256 {
        return Err("plan bytes do not match their checksum".into());
    }
    Ok(SerializedEngine {
        bytes: plan.to_vec(),
        settings: header.settings,
        trt_version: header.trt_version,
        stripped: header.stripped,
    })
}

/// The weight payloads of a layer (constants, convolution kernels and biases).
pub fn weights_mut(op: &mut LayerOp) -> Vec<&mut crate::network::Weights> {
    match op {
        LayerOp::Constant { weights, .. } => vec![weights],
        LayerOp::Convolution { kernel, bias, .. } | LayerOp::Deconvolution { kernel, bias, .. } => {
            std::iter::once(kernel).chain(bias.as_mut()).collect()
        }
        _ => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{NetworkBuilder, TrtDataType, Weights};

    fn network(value: f32) -> RecordedNetwork {
        let mut net = RecordedNetwork::new();
        let x = net.add_input("x", TrtDataType::Float, &[2]).unwrap();
        let c = net
            .add_constant(
                &[2],
                Weights::from_f64s(&[value as f64, 2.0], TrtDataType::Float).unwrap(),
            )
            .unwrap();
        let y = net
            .add_elementwise(x, c, crate::network::ElementWiseOp::Sum)
            .unwrap();
        net.mark_output(y, "y").unwrap();
        net
    }

    fn plan(tag: u8) -> SerializedEngine {
        SerializedEngine {
            bytes: vec![tag; 100],
            settings: BuildSettings::default(),
            trt_version: "TensorRT-RTX 1.7.1".into(),
            stripped: false,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("trtfx-plan-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn stripped_key_covers_refit_names_not_their_bytes() {
        let v = "TensorRT-RTX 1.7.1";
        let s = BuildSettings {
            strip_weights: true,
            ..BuildSettings::default()
        };
        // Layer 1 is the constant: a program weight `w`.
        let refs = WeightRefs::from([("1.weights".to_string(), "w".to_string())]);
        let k = PlanCache::key_with_refs(&network(1.0), &s, v, &refs);
        assert_eq!(
            k,
            PlanCache::key_with_refs(&network(3.0), &s, v, &refs),
            "new bytes, same plan"
        );
        let other = WeightRefs::from([("1.weights".to_string(), "v".to_string())]);
        assert_ne!(
            k,
            PlanCache::key_with_refs(&network(1.0), &s, v, &other),
            "refit name"
        );
        assert_ne!(
            k,
            PlanCache::key(&network(1.0), &s, v),
            "no refs: bytes in the key"
        );
        let unstripped = BuildSettings {
            strip_weights: false,
            ..BuildSettings::default()
        };
        assert_ne!(
            PlanCache::key_with_refs(&network(1.0), &unstripped, v, &refs),
            PlanCache::key_with_refs(&network(3.0), &unstripped, v, &refs),
            "a plan with its weights depends on their bytes"
        );
    }

    #[test]
    fn key_covers_weights_settings_and_library() {
        let s = BuildSettings::default();
        let v = "TensorRT-RTX 1.7.1";
        let k = PlanCache::key(&network(1.0), &s, v);
        assert_eq!(k.len(), 64);
        assert_eq!(k, PlanCache::key(&network(1.0), &s, v), "deterministic");
        assert_ne!(k, PlanCache::key(&network(3.0), &s, v), "weights");
        assert_ne!(
            k,
            PlanCache::key(&network(1.0), &s, "TensorRT-RTX 1.8.0"),
            "library"
        );
        let level = BuildSettings {
            optimization_level: Some(5),
            ..BuildSettings::default()
        };
        assert_ne!(k, PlanCache::key(&network(1.0), &level, v), "settings");
        let timing = BuildSettings {
            timing_cache_path: Some("/tmp/t.cache".into()),
            ..BuildSettings::default()
        };
        assert_eq!(
            k,
            PlanCache::key(&network(1.0), &timing, v),
            "a path is not the plan"
        );
    }

    #[test]
    fn second_build_is_a_hit_and_a_corrupt_entry_is_rebuilt() {
        let cache = PlanCache::new(scratch("hit"));
        let (net, s, v) = (network(1.0), BuildSettings::default(), "TensorRT-RTX 1.7.1");
        let builds = std::cell::Cell::new(0);
        let build = |tag| {
            builds.set(builds.get() + 1);
            Ok::<_, String>(plan(tag))
        };
        let (p1, u1) = cache.get_or_build(&net, &s, v, || build(7)).unwrap();
        assert!(matches!(u1, CacheUse::Stored { .. }), "{u1:?}");
        let (p2, u2) = cache.get_or_build(&net, &s, v, || build(8)).unwrap();
        assert!(matches!(u2, CacheUse::Hit { .. }), "{u2:?}");
        assert_eq!(p2, p1, "the stored plan comes back");
        assert_eq!(builds.get(), 1);

        // Flip one plan byte: the checksum catches it, the plan is rebuilt with a warning.
        let path = cache.path(u1.key());
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (p3, u3) = cache.get_or_build(&net, &s, v, || build(9)).unwrap();
        let warning = u3.warning().unwrap_or_default().to_string();
        assert!(matches!(u3, CacheUse::Rebuilt { .. }), "{u3:?}");
        assert!(warning.contains("checksum"), "{warning}");
        assert_eq!(p3.bytes, vec![9; 100]);
        // Truncated entry, then a file of another format: both rebuilt.
        std::fs::write(&path, &bytes[..10]).unwrap();
        let (_, u4) = cache.get_or_build(&net, &s, v, || build(10)).unwrap();
        assert!(
            u4.warning()
                .unwrap()
                .contains("not a trtfx plan cache entry"),
            "{u4:?}"
        );
        let (_, u5) = cache.get_or_build(&net, &s, v, || build(11)).unwrap();
        assert!(
            matches!(u5, CacheUse::Hit { .. }),
            "the rebuilt entry is good: {u5:?}"
        );
        assert_eq!(builds.get(), 3);
        let _ = std::fs::remove_dir_all(cache.dir());
    }

    #[test]
    fn build_errors_pass_through_and_store_nothing() {
        let cache = PlanCache::new(scratch("err"));
        let (net, s) = (network(1.0), BuildSettings::default());
        let r = cache.get_or_build(&net, &s, "v", || Err::<SerializedEngine, _>("no GPU"));
        assert_eq!(r.unwrap_err(), "no GPU");
        assert!(!cache.dir().exists() || std::fs::read_dir(cache.dir()).unwrap().next().is_none());
    }

    #[test]
    fn an_unwritable_directory_is_a_warning() {
        // A file where the directory should be.
        let d = scratch("file");
        std::fs::write(&d, b"x").unwrap();
        let cache = PlanCache::new(&d);
        let (_, used) = cache
            .get_or_build(&network(1.0), &BuildSettings::default(), "v", || {
                Ok::<_, String>(plan(1))
            })
            .unwrap();
        assert!(matches!(used, CacheUse::NotStored { .. }), "{used:?}");
        let _ = std::fs::remove_file(&d);
    }

    #[test]
    fn a_library_stamp_follows_the_file() {
        let d = scratch("libstamp");
        let cache = PlanCache::new(d.join("cache"));
        std::fs::create_dir_all(&d).unwrap();
        let lib = d.join("libfake.so.1");
        std::fs::write(&lib, b"library v1").unwrap();
        assert_eq!(cache.known_library_version(&lib), None, "never loaded");
        cache
            .remember_library_version(&lib, "TensorRT-RTX 1.7.1")
            .unwrap();
        assert_eq!(
            cache.known_library_version(&lib).as_deref(),
            Some("TensorRT-RTX 1.7.1")
        );
        // A symlink to the same file is the same library.
        #[cfg(unix)]
        {
            let link = d.join("libfake.so");
            std::os::unix::fs::symlink(&lib, &link).unwrap();
            assert_eq!(
                cache.known_library_version(&link).as_deref(),
                Some("TensorRT-RTX 1.7.1")
            );
        }
        // Replaced in place (another size): the version must be asked again.
        std::fs::write(&lib, b"library version 2").unwrap();
        assert_eq!(cache.known_library_version(&lib), None);
        // A stamp file that is not one of ours is ignored, not trusted.
        cache
            .remember_library_version(&lib, "TensorRT-RTX 1.8.0")
            .unwrap();
        // The first version's stamp is still in the directory: overwrite this version's own
        // (read_dir order would pick either).
        let stamp = cache.library_stamp_path(&library_stamp(&lib).unwrap().0);
        assert!(stamp.exists(), "{}", stamp.display());
        std::fs::write(&stamp, "garbage\n").unwrap();
        assert_eq!(cache.known_library_version(&lib), None);
        assert_eq!(cache.known_library_version(&d.join("missing.so")), None);
        let _ = std::fs::remove_dir_all(&d);
    }
}
