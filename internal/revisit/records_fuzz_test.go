package revisit

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

func fuzzPNG(w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.Gray{Y: 200})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// FuzzDecodeSignature: any input is either refused as invalid or gives a bounded PNG
// that decodes again to the stated size.
func FuzzDecodeSignature(f *testing.F) {
	f.Add(fuzzPNG(40, 30))
	f.Add(fuzzPNG(20, 20))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, decode := range []func() (Signature, error){
			func() (Signature, error) { return DecodeSignaturePNG("signature", raw) },
			func() (Signature, error) {
				return DecodeSignatureURL("signature", signaturePrefix+base64.StdEncoding.EncodeToString(raw))
			},
			func() (Signature, error) { return DecodeSignatureURL("signature", string(raw)) },
		} {
			sig, err := decode()
			if err != nil {
				if apperr.KindOf(err) != apperr.Invalid {
					t.Fatalf("refusal of kind %v: %v", apperr.KindOf(err), err)
				}
				continue
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(sig.PNG))
			if err != nil || cfg.Width != sig.Width || cfg.Height != sig.Height || sig.Width > MaxSignatureWidth ||
				sig.Height > MaxSignatureHeight || sig.Width < MinSignatureSide || sig.Height < MinSignatureSide {
				t.Fatalf("accepted %dx%d: %+v %v", sig.Width, sig.Height, cfg, err)
			}
		}
	})
}

// FuzzDecodeRecordRequest: a record body, JSON or multipart, is decoded or refused with
// a client error, never a panic or a server error.
func FuzzDecodeRecordRequest(f *testing.F) {
	f.Add([]byte(`{"method":"phone","visited_at":"2026-10-09T10:00:00Z","reached":true,"satisfaction":4,"answers":{"q":"a"}}`), false)
	f.Add([]byte(`{"method":"onsite","signature":"data:image/png;base64,AAAA","issues":[{"text":"x","appointment_at":"2026-10-10T10:00:00Z"}]}`), false)
	f.Add([]byte(`{"reached":true}`), true)
	f.Add([]byte(`{"answers":{"a":"\ud800"}}`), false)
	f.Add([]byte(`[`), true)
	f.Fuzz(func(t *testing.T, body []byte, multi bool) {
		var req *http.Request
		if multi {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			pw, _ := mw.CreateFormField("record")
			_, _ = pw.Write(body)
			fw, _ := mw.CreateFormFile("signature", "s.png")
			_, _ = fw.Write(body)
			_ = mw.Close()
			req, _ = http.NewRequest(http.MethodPost, "/", &b)
			req.Header.Set("Content-Type", mw.FormDataContentType())
		} else {
			req, _ = http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		in, err := DecodeRecordRequest(req)
		if err != nil {
			switch apperr.KindOf(err) {
			case apperr.Invalid, apperr.Malformed, apperr.TooLarge:
			default:
				t.Fatalf("refusal of kind %v: %v", apperr.KindOf(err), err)
			}
			return
		}
		if in.signature != nil && len(in.signature.PNG) == 0 {
			t.Fatal("empty signature accepted")
		}
		_ = strings.TrimSpace(in.Method)
	})
}

// FuzzCheckSMSTemplate: the template check never panics and an accepted template keeps
// its greeting and closing.
func FuzzCheckSMSTemplate(f *testing.F) {
	f.Add(smsGreetingVIP + " " + smsBookingLabel + " 400 " + smsConsultLabel + " " + smsConsultant)
	f.Add(smsGreetingNamed + smsBookingLabel + smsConsultLabel + ":" + smsConsultant)
	f.Add("{name}{")
	f.Fuzz(func(t *testing.T, body string) {
		fs := apperr.Fields{}
		CheckSMSTemplate(fs, "body", body)
		if len(fs) == 0 {
			b := strings.TrimSpace(body)
			if !strings.HasSuffix(b, smsConsultant) || !(strings.HasPrefix(b, smsGreetingVIP) || strings.HasPrefix(b, smsGreetingNamed)) {
				t.Fatalf("accepted %q", body)
			}
		}
	})
}
