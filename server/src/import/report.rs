//! What an import did, printed for the user (Chinese first, then English).

use std::fmt;

use super::crs::Crs;
use super::record::Location;

/// One rejected row or feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub location: Location,
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub file: String,
    pub format: &'static str,
    pub layer: String,
    pub crs: Crs,
    /// The layer was created from the file (`--create`).
    pub created: bool,
    pub dry_run: bool,
    pub skip_invalid: bool,
    /// Records read from the file.
    pub read: u64,
    /// Records that passed every check.
    pub valid: u64,
    /// Features written to the store (inserted or replaced).
    pub written: u64,
    pub problems: Vec<Problem>,
    /// How the file was read (encoding, columns) and warnings (ignored columns).
    pub notes: Vec<String>,
}

impl ImportReport {
    /// Nothing was written because of invalid records (no `--skip-invalid`).
    pub fn aborted(&self) -> bool {
        !self.dry_run && !self.skip_invalid && !self.problems.is_empty()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "文件 file: {} ({}, {})",
            self.file, self.format, self.crs
        )?;
        for note in &self.notes {
            writeln!(f, "  {note}")?;
        }
        writeln!(
            f,
            "图层 layer: {}{}",
            self.layer,
            if self.created {
                " (新建 created)"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "读取 read: {}, 有效 valid: {}, 无效 invalid: {}",
            self.read,
            self.valid,
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  无效 invalid {}: {}", p.location, p.reason)?;
        }
        if self.dry_run {
            writeln!(f, "试运行，未写入 dry run: nothing written")
        } else if self.aborted() {
            writeln!(
                f,
                "存在无效记录，未写入任何数据 nothing written because of invalid records \
                 (fix them, or pass --skip-invalid to import the valid ones)"
            )
        } else {
            writeln!(f, "已写入 written: {} features", self.written)
        }
    }
}
