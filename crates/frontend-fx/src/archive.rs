//! The raw `.pt2` container layer (spec §1): zip members, prefix, versions, payload configs.
//!
//! Reading goes through the zip central directory (the local headers of torch's writer carry
//! zero sizes, bit 3). Tensor payloads are not read at open time: each config entry records
//! the member, its data offset in the file and its length, so that a tensor can be read (or
//! mmapped by a caller, for stored members) when it is needed.
//!
//! An archive file is mapped read-only when it is opened (or shared, when it is given as bytes),
//! so a stored member (torch writes every member stored) is read by borrowing its bytes after
//! checking its CRC-32: no copy, no zero-filled buffer. That is most of the cost of reading a
//! large `model.json` besides parsing it. Compressed members, and files that cannot be mapped,
//! go through the zip reader.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use trtfx_ir::Limits;
use zip::ZipArchive;

use crate::error::ImportError;
use crate::payload::{materialize, TensorData, ViewSpec};
use crate::schema::{ExportedProgram, PayloadConfig, VersionProbe};

/// The newest schema minor this importer was written against (torch 2.12–2.15 write 8.20).
pub const KNOWN_SCHEMA_MINOR: i64 = 20;

trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// Where a member's bytes are in the archive file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// Full member name (`<prefix>/<record>`).
    pub name: String,
    /// Index in the central directory.
    pub index: usize,
    /// Offset of the member's (possibly compressed) data from the start of the file.
    pub data_offset: u64,
    /// Uncompressed length.
    pub size: u64,
    /// Compressed length (equals `size` when stored).
    pub compressed_size: u64,
    /// Stored (method 0): the bytes at `data_offset` are the content and may be mmapped.
    pub stored: bool,
    /// CRC-32 of the uncompressed content, from the central directory.
    pub crc32: u32,
}

/// The bytes of a whole archive, where they can be borrowed.
enum ArchiveBytes {
    /// A file mapped read-only.
    Mapped(memmap2::Mmap),
    /// An archive given in memory.
    Shared(Arc<[u8]>),
}

impl ArchiveBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            ArchiveBytes::Mapped(m) => m,
            ArchiveBytes::Shared(b) => b,
        }
    }
}

/// [`ArchiveBytes`] as the zip reader's `Read + Seek` source (through [`Cursor`]).
#[derive(Clone)]
struct SharedBytes(Arc<ArchiveBytes>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// Byte order of raw tensor payloads (`byteorder` member).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// `little` (also the default when the member is absent).
    Little,
    /// `big`: payloads are byte-swapped on read.
    Big,
}

/// Which payload config an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// `data/weights/`: parameters and persistent buffers.
    Weights,
    /// `data/constants/`: lifted constants, non-persistent buffers, script objects.
    Constants,
}

/// One FQN of a payload config, with its location resolved.
#[derive(Clone, Debug)]
pub struct PayloadEntry {
    /// FQN (key of the config; the name used by the graph signature).
    pub fqn: String,
    /// Weights or constants.
    pub kind: PayloadKind,
    /// `path_name` from the config (e.g. `weight_0`).
    pub path_name: String,
    /// The member holding the bytes.
    pub member: MemberInfo,
    /// Wrap as a parameter.
    pub is_param: bool,
    /// A `torch.save` blob (tensor subclass or script object) rather than raw bytes.
    pub use_pickle: bool,
    /// `requires_grad` of the recorded meta.
    pub requires_grad: bool,
    /// How to view the storage; `None` for script objects (no `tensor_meta`) or a pickled
    /// payload whose meta cannot be used as a raw view.
    pub view: Option<ViewSpec>,
}

/// An opened `.pt2` archive.
pub struct Pt2Archive {
    display: String,
    path: Option<PathBuf>,
    zip: Mutex<ZipArchive<Box<dyn ReadSeek>>>,
    /// The whole archive, when it is mapped or in memory: stored members are borrowed from it.
    bytes: Option<Arc<ArchiveBytes>>,
    prefix: String,
    members: IndexMap<String, MemberInfo>,
    archive_version: String,
    byte_order: ByteOrder,
    models: Vec<String>,
    weights: IndexMap<String, PayloadEntry>,
    constants: IndexMap<String, PayloadEntry>,
    warnings: Vec<String>,
    limits: Limits,
    /// Inflated bytes read so far, against [`Limits::max_total_bytes`].
    total_read: AtomicU64,
}

/// Most bytes of an `archive_format` member read while looking for the prefix: it holds the
/// word `pt2`, and a candidate is read before anything is known about the archive.
const ARCHIVE_FORMAT_MAX: u64 = 4096;

impl std::fmt::Debug for Pt2Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pt2Archive")
            .field("archive", &self.display)
            .field("prefix", &self.prefix)
            .field("members", &self.members.len())
            .field("models", &self.models)
            .finish_non_exhaustive()
    }
}

impl Pt2Archive {
    /// Opens an archive on disk with the limits of [`Limits::from_env`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ImportError> {
        let path = path.as_ref();
        let limits = Limits::from_env().map_err(|reason| ImportError::Limit {
            archive: path.display().to_string(),
            reason,
        })?;
        Self::open_with_limits(path, limits)
    }

    /// Opens an archive on disk with explicit limits.
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Self, ImportError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let file = File::open(path).map_err(|source| ImportError::Io {
            archive: display.clone(),
            source,
        })?;
        // SAFETY: the map is read-only and private to this archive. Like every mmap-based
        // reader, it assumes the file is not truncated or rewritten while the archive is open;
        // a file that cannot be mapped (a pipe, an empty file) is read through the file instead.
        let mapped = match file.metadata() {
            Ok(m) if m.is_file() && m.len() > 0 => unsafe { memmap2::Mmap::map(&file) }.ok(),
            _ => None,
        };
        match mapped {
            Some(map) => {
                let bytes = Arc::new(ArchiveBytes::Mapped(map));
                let reader: Box<dyn ReadSeek> = Box::new(Cursor::new(SharedBytes(bytes.clone())));
                Self::from_reader(
                    reader,
                    Some(bytes),
                    display,
                    Some(path.to_path_buf()),
                    limits,
                )
            }
            None => {
                let reader: Box<dyn ReadSeek> = Box::new(BufReader::new(file));
                Self::from_reader(reader, None, display, Some(path.to_path_buf()), limits)
            }
        }
    }

    /// Opens an archive held in memory with the default [`Limits`]; `name` is used in error
    /// messages.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>, name: &str) -> Result<Self, ImportError> {
        Self::from_bytes_with_limits(bytes, name, Limits::default())
    }

    /// [`Pt2Archive::from_bytes`] with explicit limits.
    pub fn from_bytes_with_limits(
        bytes: impl Into<Arc<[u8]>>,
        name: &str,
        limits: Limits,
    ) -> Result<Self, ImportError> {
        let bytes = Arc::new(ArchiveBytes::Shared(bytes.into()));
        let reader: Box<dyn ReadSeek> = Box::new(Cursor::new(SharedBytes(bytes.clone())));
        Self::from_reader(reader, Some(bytes), name.to_string(), None, limits)
    }

    fn from_reader(
        reader: Box<dyn ReadSeek>,
        bytes: Option<Arc<ArchiveBytes>>,
        display: String,
        path: Option<PathBuf>,
        limits: Limits,
    ) -> Result<Self, ImportError> {
        let zip_err = |member: Option<&str>, source| ImportError::Zip {
            archive: display.clone(),
            member: member.map(str::to_string),
            source,
        };
        let mut zip = ZipArchive::new(reader).map_err(|e| zip_err(None, e))?;

        // Prefix: the X of an `X/archive_format` member (spec §1.2), never the file name.
        let mut prefix = None;
        let mut candidates: Vec<String> = zip
            .file_names()
            .filter(|n| {
                n.strip_suffix("/archive_format")
                    .is_some_and(|x| !x.is_empty() && !x.contains('/'))
            })
            .map(str::to_string)
            .collect();
        candidates.sort();
        for cand in &candidates {
            let content = read_prefix(&mut zip, cand, ARCHIVE_FORMAT_MAX)
                .map_err(|e| zip_err(Some(cand), e))?;
            if String::from_utf8_lossy(&content).contains("pt2") {
                prefix = Some(cand.trim_end_matches("/archive_format").to_string());
                break;
            }
        }
        let Some(prefix) = prefix else {
            return Err(Self::classify_non_pt2(&zip, &display, &candidates));
        };

        let mut members = IndexMap::new();
        let pfx = format!("{prefix}/");
        for index in 0..zip.len() {
            let f = zip.by_index_raw(index).map_err(|e| zip_err(None, e))?;
            let name = f.name().to_string();
            let Some(record) = name.strip_prefix(&pfx) else {
                continue;
            };
            if record.is_empty() || f.is_dir() {
                continue;
            }
            let info = MemberInfo {
                index,
                data_offset: f.data_start(),
                size: f.size(),
                compressed_size: f.compressed_size(),
                stored: f.compression() == zip::CompressionMethod::Stored,
                crc32: f.crc32(),
                name: name.clone(),
            };
            members.insert(record.to_string(), info);
        }

        let mut ar = Pt2Archive {
            display,
            path,
            zip: Mutex::new(zip),
            bytes,
            prefix,
            members,
            archive_version: "0".into(),
            byte_order: ByteOrder::Little,
            models: Vec::new(),
            weights: IndexMap::new(),
            constants: IndexMap::new(),
            warnings: Vec::new(),
            limits,
            total_read: AtomicU64::new(0),
        };
        ar.read_header_records()?;
        ar.read_payload_configs()?;
        Ok(ar)
    }

    fn classify_non_pt2(
        zip: &ZipArchive<Box<dyn ReadSeek>>,
        display: &str,
        candidates: &[String],
    ) -> ImportError {
        // torch 2.6/2.7 wrote a prefix-less zip (spec §1.5).
        if let Some(m) = zip.file_names().find(|n| {
            *n == "serialized_exported_program.json"
                || n.ends_with("/serialized_exported_program.json")
        }) {
            return ImportError::UnsupportedLayout {
                archive: display.to_string(),
                member: m.to_string(),
                what: "legacy archive (torch <= 2.7); re-export with torch >= 2.9".into(),
            };
        }
        let reason = if let Some(c) = candidates.first() {
            format!("member `{c}` does not say `pt2`")
        } else if zip.file_names().any(|n| n.ends_with("/data.pkl")) {
            "no `<prefix>/archive_format` member; this looks like a torch.save / TorchScript zip \
             (or a truncated .pt2 whose last readable directory is an embedded zip)"
                .into()
        } else {
            "no `<prefix>/archive_format` member".into()
        };
        ImportError::NotPt2 {
            archive: display.to_string(),
            reason,
        }
    }

    fn read_header_records(&mut self) -> Result<(), ImportError> {
        if self.members.contains_key("archive_version") {
            let v = self.read_record("archive_version")?;
            let v = String::from_utf8_lossy(&v).trim().to_string();
            if v != "0" {
                self.warnings.push(format!(
                    "{}: archive_version is {v:?}, not \"0\"; reading it as version 0",
                    self.display
                ));
            }
            self.archive_version = v;
        }
        if self.members.contains_key("byteorder") {
            let v = self.read_record("byteorder")?;
            self.byte_order = match String::from_utf8_lossy(&v).trim() {
                "little" => ByteOrder::Little,
                "big" => ByteOrder::Big,
                other => {
                    return Err(ImportError::Corrupt {
                        archive: self.display.clone(),
                        reason: format!(
                            "member `{}/byteorder` is {other:?}, expected `little` or `big`",
                            self.prefix
                        ),
                    })
                }
            };
        }
        let mut models: Vec<String> = self
            .members
            .keys()
            .filter_map(|r| r.strip_prefix("models/")?.strip_suffix(".json"))
            .filter(|m| !m.is_empty() && !m.contains('/'))
            .map(str::to_string)
            .collect();
        // `model` first (what torch.export.save writes), then the rest in name order.
        models.sort_by(|a, b| (a != "model", a).cmp(&(b != "model", b)));
        if models.is_empty() {
            let hint = if self
                .members
                .keys()
                .any(|k| k.starts_with("data/aotinductor/"))
            {
                "this is an AOTInductor package, not an exported program"
            } else {
                "a torch.export.save that failed part-way leaves no model"
            };
            return Err(ImportError::Corrupt {
                archive: self.display.clone(),
                reason: format!("no `{}/models/*.json` member ({hint})", self.prefix),
            });
        }
        self.models = models;
        Ok(())
    }

    fn read_payload_configs(&mut self) -> Result<(), ImportError> {
        let model = self.models[0].clone();
        for (kind, dir, cfg_name) in [
            (
                PayloadKind::Weights,
                "data/weights",
                format!("data/weights/{model}_weights_config.json"),
            ),
            (
                PayloadKind::Constants,
                "data/constants",
                format!("data/constants/{model}_constants_config.json"),
            ),
        ] {
            if !self.members.contains_key(&cfg_name) {
                let pickled = format!("{dir}/{model}.pt");
                if self.members.contains_key(&pickled) {
                    return Err(ImportError::UnsupportedLayout {
                        archive: self.display.clone(),
                        member: format!("{}/{pickled}", self.prefix),
                        what: format!(
                            "pickled {} (torch 2.8 layout); re-export with torch >= 2.9",
                            if kind == PayloadKind::Weights {
                                "weights"
                            } else {
                                "constants"
                            }
                        ),
                    });
                }
                // Required since 2.9, but an absent config only matters if the graph needs a
                // tensor from it; that lookup then names the missing FQN.
                self.warnings.push(format!(
                    "{}: no `{}/{cfg_name}`; assuming no {dir} payloads",
                    self.display, self.prefix
                ));
                continue;
            }
            let bytes = self.read_record(&cfg_name)?;
            let full = format!("{}/{cfg_name}", self.prefix);
            let cfg: PayloadConfig<'_> =
                serde_json::from_slice(&bytes).map_err(|source| ImportError::Json {
                    archive: self.display.clone(),
                    member: full.clone(),
                    source,
                })?;
            let mut out = IndexMap::new();
            for (fqn, meta) in cfg.config {
                let record = format!("{dir}/{}", meta.path_name);
                let Some(member) = self.members.get(&record).cloned() else {
                    return Err(ImportError::MissingMember {
                        archive: self.display.clone(),
                        member: format!("{}/{record}", self.prefix),
                        needed_for: format!("tensor `{fqn}` in `{full}`"),
                    });
                };
                let view = match &meta.tensor_meta {
                    None => None,
                    Some(tm) => match ViewSpec::from_meta(tm) {
                        Ok(v) => Some(v),
                        Err(_) if meta.use_pickle => None,
                        Err(reason) => {
                            return Err(ImportError::Payload {
                                archive: self.display.clone(),
                                fqn: fqn.into_owned(),
                                reason,
                            })
                        }
                    },
                };
                let fqn = fqn.into_owned();
                if let (Some(v), false) = (&view, meta.use_pickle) {
                    self.check_view(&fqn, v, &member)?;
                }
                out.insert(
                    fqn.clone(),
                    PayloadEntry {
                        fqn,
                        kind,
                        path_name: meta.path_name.into_owned(),
                        member,
                        is_param: meta.is_param,
                        use_pickle: meta.use_pickle,
                        requires_grad: meta.tensor_meta.as_ref().is_some_and(|t| t.requires_grad),
                        view,
                    },
                );
            }
            match kind {
                PayloadKind::Weights => self.weights = out,
                PayloadKind::Constants => self.constants = out,
            }
        }
        Ok(())
    }

    /// The archive path (or in-memory name) used in messages.
    pub fn display_name(&self) -> &str {
        &self.display
    }

    /// The file path, when opened from disk (for mmapping stored members).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The prefix `X` of the `X/archive_format` member.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `archive_version` (`"0"` when absent).
    pub fn archive_version(&self) -> &str {
        &self.archive_version
    }

    /// Byte order of raw payloads.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Model names `M` of the `models/M.json` members; `model` first.
    pub fn model_names(&self) -> &[String] {
        &self.models
    }

    /// Non-fatal findings (unexpected archive version, newer schema minor, missing configs).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// All members under the prefix, keyed by record name (`models/model.json`).
    pub fn members(&self) -> &IndexMap<String, MemberInfo> {
        &self.members
    }

    /// Looks a record up (name relative to the prefix).
    pub fn member(&self, record: &str) -> Option<&MemberInfo> {
        self.members.get(record)
    }

    /// Entries of the weights config (parameters and persistent buffers).
    pub fn weights(&self) -> &IndexMap<String, PayloadEntry> {
        &self.weights
    }

    /// Entries of the constants config.
    pub fn constants(&self) -> &IndexMap<String, PayloadEntry> {
        &self.constants
    }

    /// The limits this archive is read with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Refuses a tensor whose view needs more bytes than its member holds (a truncated
    /// payload), or more elements or dims than the limits allow.
    fn check_view(&self, fqn: &str, v: &ViewSpec, member: &MemberInfo) -> Result<(), ImportError> {
        let bad = |reason: String| ImportError::Payload {
            archive: self.display.clone(),
            fqn: fqn.to_string(),
            reason,
        };
        if member.size > self.limits.max_member_bytes {
            return Err(ImportError::Limit {
                archive: self.display.clone(),
                reason: format!(
                    "member `{}` (tensor `{fqn}`): inflates to {} bytes, more than the limit of \
                     {} (TRTFX_MAX_MEMBER_BYTES)",
                    member.name, member.size, self.limits.max_member_bytes
                ),
            });
        }
        if v.sizes.len() > self.limits.max_rank {
            return Err(bad(format!(
                "rank {} is more than the limit of {} (TRTFX_MAX_RANK)",
                v.sizes.len(),
                self.limits.max_rank
            )));
        }
        let numel = v.numel().map_err(bad)? as u64;
        if numel > self.limits.max_elements {
            return Err(bad(format!(
                "{numel} elements, more than the limit of {} (TRTFX_MAX_ELEMENTS)",
                self.limits.max_elements
            )));
        }
        let need = v.required_bytes().map_err(bad)?;
        if need > member.size {
            return Err(bad(format!(
                "truncated data: sizes {:?}, strides {:?}, offset {} need {need} bytes but \
                 member `{}` holds {}",
                v.sizes, v.strides, v.storage_offset, member.name, member.size
            )));
        }
        Ok(())
    }

    /// Reads a record's whole content (decompressing if needed); records are metadata
    /// (JSON, version strings), read under [`Limits::max_metadata_bytes`]. A stored member
    /// of a mapped or in-memory archive is borrowed, not copied.
    pub fn read_record(&self, record: &str) -> Result<Cow<'_, [u8]>, ImportError> {
        let info = self
            .members
            .get(record)
            .ok_or_else(|| ImportError::MissingMember {
                archive: self.display.clone(),
                member: format!("{}/{record}", self.prefix),
                needed_for: "reading".into(),
            })?;
        self.read_capped(
            info,
            info.size,
            self.limits.max_metadata_bytes,
            "TRTFX_MAX_METADATA_BYTES",
        )
    }

    /// Reads a member's whole content (decompressing if needed; the CRC is checked), under
    /// [`Limits::max_member_bytes`]. A stored member of a mapped or in-memory archive is
    /// borrowed, not copied.
    pub fn read_member(&self, info: &MemberInfo) -> Result<Cow<'_, [u8]>, ImportError> {
        self.read_capped(
            info,
            info.size,
            self.limits.max_member_bytes,
            "TRTFX_MAX_MEMBER_BYTES",
        )
    }

    /// Reads the first `want` bytes of a member (all of it when `want` is its size), refusing
    /// a member whose declared size exceeds `cap` before inflating anything, and stopping as
    /// soon as the data grows past its declared size: a zip bomb fails fast, having allocated
    /// no more than the declared size allows.
    fn read_capped(
        &self,
        info: &MemberInfo,
        want: u64,
        cap: u64,
        var: &str,
    ) -> Result<Cow<'_, [u8]>, ImportError> {
        let limit = |reason: String| ImportError::Limit {
            archive: self.display.clone(),
            reason: format!("member `{}`: {reason}", info.name),
        };
        if info.size > cap {
            return Err(limit(format!(
                "inflates to {} bytes, more than the limit of {cap} ({var})",
                info.size
            )));
        }
        let want = want.min(info.size);
        let total = self.total_read.fetch_add(want, Ordering::Relaxed) + want;
        if total > self.limits.max_total_bytes {
            return Err(limit(format!(
                "reading it brings the archive's inflated total to {total} bytes, more than \
                 the limit of {} (TRTFX_MAX_TOTAL_BYTES)",
                self.limits.max_total_bytes
            )));
        }
        if let Some(content) = self.stored_content(info) {
            return Ok(Cow::Borrowed(&content[..want as usize]));
        }
        let err = |source| ImportError::Zip {
            archive: self.display.clone(),
            member: Some(info.name.clone()),
            source,
        };
        let mut zip = self.zip.lock().unwrap_or_else(|p| p.into_inner());
        let f = zip.by_index(info.index).map_err(err)?;
        // One byte more than declared tells a lying directory from an honest one.
        let whole = want == info.size;
        let mut buf = Vec::with_capacity(want.min(1 << 30) as usize);
        let mut r = f.take(want + u64::from(whole));
        r.read_to_end(&mut buf)
            .map_err(|e| err(zip::result::ZipError::Io(e)))?;
        if buf.len() as u64 > want {
            return Err(limit(format!(
                "inflates to more than the {} bytes its directory entry declares",
                info.size
            )));
        }
        if (buf.len() as u64) < want {
            return Err(limit(format!(
                "holds {} bytes, its directory entry declares {}",
                buf.len(),
                info.size
            )));
        }
        Ok(Cow::Owned(buf))
    }

    /// The whole content of a stored member, borrowed from the mapped or in-memory archive,
    /// when its bytes lie inside the archive and match the directory's CRC-32. Anything else
    /// (compressed, out of range, a CRC mismatch) returns `None`, and the zip reader then
    /// reads the member and reports what is wrong with it.
    fn stored_content(&self, info: &MemberInfo) -> Option<&[u8]> {
        if !info.stored || info.compressed_size != info.size {
            return None;
        }
        let all = self.bytes.as_deref()?.as_slice();
        let start = usize::try_from(info.data_offset).ok()?;
        let end = start.checked_add(usize::try_from(info.size).ok()?)?;
        let content = all.get(start..end)?;
        (crc32fast::hash(content) == info.crc32).then_some(content)
    }

    /// Reads model `name`'s JSON text (`models/<name>.json`), borrowed where it is stored.
    pub fn read_model_json(&self, name: &str) -> Result<Cow<'_, [u8]>, ImportError> {
        self.read_record(&format!("models/{name}.json"))
    }

    /// Looks an FQN up: weights first, then constants.
    pub fn payload(&self, fqn: &str) -> Option<&PayloadEntry> {
        self.weights.get(fqn).or_else(|| self.constants.get(fqn))
    }

    /// Reads and materialises one tensor (contiguous, little-endian).
    pub fn read_tensor(&self, entry: &PayloadEntry) -> Result<TensorData, ImportError> {
        if entry.use_pickle {
            return Err(ImportError::PickledPayload {
                archive: self.display.clone(),
                fqn: entry.fqn.clone(),
                member: entry.member.name.clone(),
            });
        }
        let Some(view) = &entry.view else {
            return Err(ImportError::Payload {
                archive: self.display.clone(),
                fqn: entry.fqn.clone(),
                reason: "no tensor_meta in the payload config".into(),
            });
        };
        // Only the bytes the view reads: a storage shared by several views may be larger, and a
        // member that lies about its size must not be inflated past what the tensor needs.
        let need = view
            .required_bytes()
            .map_err(|reason| ImportError::Payload {
                archive: self.display.clone(),
                fqn: entry.fqn.clone(),
                reason,
            })?;
        let storage = self.read_capped(
            &entry.member,
            need,
            self.limits.max_member_bytes,
            "TRTFX_MAX_MEMBER_BYTES",
        )?;
        materialize(&storage, view, self.byte_order == ByteOrder::Big).map_err(|reason| {
            ImportError::Payload {
                archive: self.display.clone(),
                fqn: entry.fqn.clone(),
                reason: format!("{reason} (member `{}`)", entry.member.name),
            }
        })
    }

    /// Reads and materialises the tensor named `fqn` (weights, then constants).
    pub fn read_tensor_by_fqn(&self, fqn: &str) -> Result<TensorData, ImportError> {
        let entry = self.payload(fqn).ok_or_else(|| ImportError::Invalid {
            archive: self.display.clone(),
            item: format!("tensor `{fqn}`"),
            reason: "not in the weights or constants config".into(),
        })?;
        self.read_tensor(entry)
    }
}

/// At most the first `max` bytes of member `name`.
fn read_prefix(
    zip: &mut ZipArchive<Box<dyn ReadSeek>>,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, zip::result::ZipError> {
    let f = zip.by_name(name)?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Parses a `models/*.json` buffer, borrowing from it.
///
/// A schema major other than 8 (or 0 = unversioned) is rejected with a version error, even when
/// the rest of the file does not match the 8.x schema; a minor newer than
/// [`KNOWN_SCHEMA_MINOR`] adds a warning.
pub fn parse_exported_program<'a>(
    json: &'a [u8],
    archive: &str,
    member: &str,
    warnings: &mut Vec<String>,
) -> Result<ExportedProgram<'a>, ImportError> {
    let check = |v: Option<crate::schema::SchemaVersion>| -> Result<(), ImportError> {
        match v {
            Some(v) if v.major == 8 || (v.major == 0 && v.minor == 0) => Ok(()),
            Some(v) => Err(ImportError::SchemaVersion {
                archive: archive.to_string(),
                member: member.to_string(),
                major: v.major,
                minor: v.minor,
            }),
            None => Ok(()),
        }
    };
    match serde_json::from_slice::<ExportedProgram<'a>>(json) {
        Ok(ep) => {
            check(Some(ep.schema_version))?;
            if ep.schema_version.minor > KNOWN_SCHEMA_MINOR {
                warnings.push(format!(
                    "{archive}: `{member}` has schema {}.{}, newer than the 8.{KNOWN_SCHEMA_MINOR} this importer knows; reading it anyway",
                    ep.schema_version.major, ep.schema_version.minor
                ));
            }
            Ok(ep)
        }
        Err(source) => {
            // Prefer a version error: a different major explains any schema mismatch.
            if let Ok(probe) = serde_json::from_slice::<VersionProbe>(json) {
                check(probe.schema_version)?;
            }
            Err(ImportError::Json {
                archive: archive.to_string(),
                member: member.to_string(),
                source,
            })
        }
    }
}
