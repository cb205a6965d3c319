// Package atomicfile writes files so that readers see either the old
// contents or the complete new contents, never a partial file.
//
// WriteFile streams into a temporary file created in the destination's own
// folder (so the final rename never crosses file systems), fsyncs it, renames
// it over the destination and fsyncs the folder so the rename itself is
// durable. On any failure the temporary file is removed and an existing
// destination is left untouched.
//
// Temporary files are named ".NAME.tmp-RANDOM" in the destination folder.
// A crash between create and rename can leave one behind; they are never
// mistaken for the destination and may be deleted by hand.
//
// Only regular files are replaced: a symbolic link is followed to the file
// it names (the link stays), a character device or named pipe is written
// through in place, and other special files are refused. CheckWritable
// probes a destination before a long computation.
//
// Errors start with "atomicfile: ", name the destination path and, for the
// common causes (missing folder, permission denied or read-only file system,
// disk full, quota exceeded), say what to do.
package atomicfile
