package revisit

// The customer's signature of an on-site visit (the seed: shangmen huifang bixu you
// kehu de qianming). The browser draws it on a canvas and sends it as a PNG data URL
// (or a multipart file part); the server keeps only a real, bounded PNG, re-encoded
// from its decoded pixels so nothing but the image survives (no text chunks, no
// trailing bytes), and serves it with its own content type, never inline in HTML.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"image"
	"image/png"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

// Signature limits.
const (
	MaxSignatureBytes  = 256 << 10 // the PNG as sent
	MaxSignatureWidth  = 2000
	MaxSignatureHeight = 1000
	MinSignatureSide   = 20
	signaturePrefix    = "data:image/png;base64,"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// Signature is a decoded signature image ready to store.
type Signature struct {
	PNG           []byte
	Width, Height int
	SHA256        string
}

// DecodeSignatureURL reads a "data:image/png;base64,..." URL into a checked signature;
// field names the input in errors.
func DecodeSignatureURL(field, s string) (Signature, error) {
	s = strings.TrimSpace(s)
	if len(s) > len(signaturePrefix)+base64.StdEncoding.EncodedLen(MaxSignatureBytes) {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_too_large", "max", MaxSignatureBytes>>10)
	}
	rest, ok := strings.CutPrefix(s, signaturePrefix)
	if !ok {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_format")
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_format")
	}
	return DecodeSignaturePNG(field, raw)
}

// DecodeSignaturePNG checks raw is one PNG image of bounded size and dimensions and
// returns it re-encoded from its pixels.
func DecodeSignaturePNG(field string, raw []byte) (Signature, error) {
	switch {
	case len(raw) > MaxSignatureBytes:
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_too_large", "max", MaxSignatureBytes>>10)
	case !bytes.HasPrefix(raw, pngMagic):
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_format")
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_format")
	}
	if cfg.Width < MinSignatureSide || cfg.Height < MinSignatureSide || cfg.Width > MaxSignatureWidth || cfg.Height > MaxSignatureHeight {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_size",
			"max_width", MaxSignatureWidth, "max_height", MaxSignatureHeight, "min", MinSignatureSide)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_format")
	}
	if blank(img) {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_blank")
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, img); err != nil {
		return Signature{}, apperr.InvalidField(field, "revisit.work.invalid.signature_format")
	}
	sum := sha256.Sum256(out.Bytes())
	return Signature{PNG: out.Bytes(), Width: cfg.Width, Height: cfg.Height, SHA256: hex.EncodeToString(sum[:])}, nil
}

// blank reports whether every pixel of img has the colour of the first one (an empty
// canvas is no signature).
func blank(img image.Image) bool {
	b := img.Bounds()
	r0, g0, b0, a0 := img.At(b.Min.X, b.Min.Y).RGBA()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bl != b0 || a != a0 {
				return false
			}
		}
	}
	return true
}
