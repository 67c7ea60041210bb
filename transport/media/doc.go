// Package media tells what an uploaded file is from its bytes alone: one of
// the image types Parley accepts (PNG, JPEG, GIF, WebP), and the dimensions
// its header declares.
//
// It reads headers only and never decodes pixels, so that a file declaring
// a huge image (a decompression bomb: a few kilobytes that would inflate to
// gigabytes) is refused before anything decodes it, here or in an agent's
// browser. It must never trust a file's name or a declared Content-Type,
// never allocate in proportion to the dimensions a header claims, and never
// panic on any input (FuzzSniff).
package media
