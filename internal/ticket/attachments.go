package ticket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Attachments are stored in the database (ticket_attachments.data) and served only as
// downloads: Content-Disposition attachment, X-Content-Type-Options nosniff, and
// application/octet-stream for anything but images and PDF. A file is accepted when
// its extension is on the allow-list AND its content (http.DetectContentType plus
// magic numbers) matches that extension; HTML, SVG, scripts and executables never pass.

// Size limits.
const (
	MaxAttachmentSize = 10 << 20                   // bytes of one file
	MaxUploadBody     = MaxAttachmentSize + 64<<10 // the multipart request around it
	maxFilename       = 200
	maxExtension      = 16 // runes of an extension kept when a long name is cut
	// MaxAttachmentBytes is MaxAttachmentSize (the name the workspace uses).
	MaxAttachmentBytes = MaxAttachmentSize
)

// AttachmentInput is a file to attach. ContentType is the client's claim and is not
// trusted: the stored type comes from the content (CheckFile).
type AttachmentInput struct {
	Filename    string
	ContentType string
	Data        []byte
	Public      bool
}

// fileKind says how an allowed extension is checked and stored.
type fileKind struct {
	sniff  []string // acceptable http.DetectContentType results (prefix match)
	magic  []byte   // or: required leading bytes
	stored string   // content type stored ("" = the sniffed one)
}

var (
	kindImage = func(ct string) fileKind { return fileKind{sniff: []string{ct}} }
	kindText  = fileKind{sniff: []string{"text/plain"}, stored: "text/plain; charset=utf-8"}
	kindZip   = func(stored string) fileKind { return fileKind{sniff: []string{"application/zip"}, stored: stored} }
	kindOLE   = func(stored string) fileKind {
		return fileKind{magic: []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, stored: stored}
	}
)

// allowedFiles maps a lower-case extension to its check.
var allowedFiles = map[string]fileKind{
	".png":  kindImage("image/png"),
	".jpg":  kindImage("image/jpeg"),
	".jpeg": kindImage("image/jpeg"),
	".gif":  kindImage("image/gif"),
	".webp": kindImage("image/webp"),
	".bmp":  kindImage("image/bmp"),
	".pdf":  {sniff: []string{"application/pdf"}, stored: "application/pdf"},
	".txt":  kindText,
	".log":  kindText,
	".csv":  kindText,
	".doc":  kindOLE("application/msword"),
	".xls":  kindOLE("application/vnd.ms-excel"),
	".ppt":  kindOLE("application/vnd.ms-powerpoint"),
	".docx": kindZip("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
	".xlsx": kindZip("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
	".pptx": kindZip("application/vnd.openxmlformats-officedocument.presentationml.presentation"),
	".odt":  kindZip("application/vnd.oasis.opendocument.text"),
	".ods":  kindZip("application/vnd.oasis.opendocument.spreadsheet"),
	".odp":  kindZip("application/vnd.oasis.opendocument.presentation"),
	".zip":  kindZip("application/zip"),
}

// cleanFilename keeps the base name of a client's file name, without control
// characters, at most maxFilename characters ("" when nothing is left).
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	if rs := []rune(name); len(rs) > maxFilename {
		// Keep a short extension (every allowed one is); a long "extension" is
		// just part of the name and is cut with it.
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > maxExtension {
			ext = ""
		}
		name = string(rs[:maxFilename-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// CheckFile decides whether a file named name with content data may be attached; it
// returns the cleaned name and the content type to store, or a 422 naming "file".
func CheckFile(name string, data []byte) (string, string, error) {
	name = cleanFilename(name)
	if name == "" {
		return "", "", apperr.InvalidField("file", "ticket.invalid.file_name")
	}
	if len(data) == 0 {
		return "", "", apperr.InvalidField("file", "ticket.invalid.file_empty")
	}
	kind, ok := allowedFiles[strings.ToLower(path.Ext(name))]
	if !ok {
		return "", "", apperr.InvalidField("file", "ticket.invalid.file_type")
	}
	sniffed := http.DetectContentType(data)
	match := false
	for _, s := range kind.sniff {
		if strings.HasPrefix(sniffed, s) {
			match = true
		}
	}
	if kind.magic != nil && bytes.HasPrefix(data, kind.magic) {
		match = true
	}
	if kind.stored == "text/plain; charset=utf-8" && (!utf8.Valid(data) || looksLikeMarkup(data)) {
		match = false
	}
	if !match {
		return "", "", apperr.InvalidField("file", "ticket.invalid.file_type")
	}
	ct := kind.stored
	if ct == "" {
		ct, _, _ = strings.Cut(sniffed, ";")
	}
	return name, ct, nil
}

// looksLikeMarkup catches text files that a browser could take for HTML or SVG even
// where DetectContentType (which looks at the start only) says plain text.
func looksLikeMarkup(data []byte) bool {
	head := bytes.ToLower(data[:min(len(data), 4096)])
	for _, tag := range []string{"<script", "<html", "<svg", "<!doctype", "<iframe", "<body", "<?xml"} {
		if bytes.Contains(head, []byte(tag)) {
			return true
		}
	}
	return false
}

// servedType is the Content-Type of a download: images and PDF as themselves,
// everything else as bytes.
func servedType(stored string) string {
	if stored == "application/pdf" || (strings.HasPrefix(stored, "image/") && !strings.Contains(stored, "svg")) {
		return stored
	}
	return "application/octet-stream"
}

// AttachmentView is the response form of an attachment.
type AttachmentView struct {
	ID          int64     `json:"id"`
	TicketID    int64     `json:"ticket_id"`
	EventID     int64     `json:"event_id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Public      bool      `json:"public"`
	URL         string    `json:"url"`
	CreatedBy   int64     `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// View maps a to its response form.
func (a Attachment) View() AttachmentView {
	return AttachmentView{ID: a.ID, TicketID: a.TicketID, EventID: a.EventID, Filename: a.Filename,
		ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, Public: a.Public,
		URL: "/api/v1/attachments/" + strconv.FormatInt(a.ID, 10), CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt}
}

// AddAttachment attaches a file to request id (an "attachment" timeline entry; a
// portal customer's files are always public, staff choose).
func (s *Service) AddAttachment(ctx context.Context, id int64, in AttachmentInput) (Attachment, error) {
	filename, data, public := in.Filename, in.Data, in.Public
	actor, err := requireActor(ctx, PermWrite, true)
	if err != nil {
		return Attachment{}, err
	}
	if len(data) > MaxAttachmentSize {
		return Attachment{}, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxAttachmentSize).OnField("file")
	}
	name, ct, err := CheckFile(filename, data)
	if err != nil {
		return Attachment{}, err
	}
	if isCustomer(actor) {
		public = true
	}
	sum := sha256.Sum256(data)
	att := Attachment{TicketID: id, Filename: name, ContentType: ct, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Public: public, CreatedAt: s.now()}
	if actor.Kind == "staff" {
		att.CreatedBy = actor.ID
	}
	_, err = s.change(ctx, id, actor, PermWrite, func(context.Context, *Ticket) ([]Event, error) {
		return []Event{{Kind: EventAttachment, Public: public, Data: map[string]any{"filename": name, "size": att.Size,
			"content_type": ct, "sha256": att.SHA256}}}, nil
	}, func(ctx context.Context, _ *Ticket, evs []Event) error {
		att.EventID = evs[0].ID
		if err := s.store.InsertAttachment(ctx, &att, data); err != nil {
			return err
		}
		d := evs[0].Data
		d["attachment_id"] = att.ID
		return s.store.SetEventData(ctx, evs[0].ID, d)
	})
	if err != nil {
		return Attachment{}, err
	}
	return att, nil
}

// ListAttachments lists the attachments of request id (a customer: the public ones of
// their own request).
func (s *Service) ListAttachments(ctx context.Context, id int64) ([]Attachment, error) {
	actor, err := requireActor(ctx, PermRead, true)
	if err != nil {
		return nil, err
	}
	t, err := s.store.GetTicket(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if err := canSee(actor, PermRead, &t); err != nil {
		return nil, err
	}
	return s.store.Attachments(ctx, id, isCustomer(actor))
}

// GetAttachment returns attachment id of request ticketID (0 = whichever) with its
// bytes if the actor reaches its request (a customer: public files of their own
// requests); the download is audited ("ticket.attachment.download").
func (s *Service) GetAttachment(ctx context.Context, ticketID, id int64) (Attachment, []byte, error) {
	actor, err := requireActor(ctx, PermRead, true)
	if err != nil {
		return Attachment{}, nil, err
	}
	att, err := s.store.Attachment(ctx, id)
	if db.IsNoRows(err) {
		return Attachment{}, nil, apperr.NotFoundf("thing.attachment")
	}
	if err != nil {
		return Attachment{}, nil, err
	}
	if ticketID != 0 && att.TicketID != ticketID {
		return Attachment{}, nil, apperr.NotFoundf("thing.attachment")
	}
	t, err := s.store.GetTicket(ctx, att.TicketID)
	if err != nil {
		return Attachment{}, nil, notFound(err)
	}
	if canSee(actor, PermRead, &t) != nil || (isCustomer(actor) && !att.Public) {
		return Attachment{}, nil, apperr.NotFoundf("thing.attachment")
	}
	data, err := s.store.AttachmentData(ctx, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	if err := s.record(ctx, "ticket.attachment.download", t.ID, map[string]any{"attachment_id": id,
		"filename": att.Filename, "number": t.Number}); err != nil {
		return Attachment{}, nil, err
	}
	return att, data, nil
}

// ServeAttachment writes a download response for att.
func ServeAttachment(w http.ResponseWriter, att Attachment, data []byte) {
	h := w.Header()
	h.Set("Content-Type", servedType(att.ContentType))
	h.Set("Content-Disposition", contentDisposition(att.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// contentDisposition is "attachment" with an ASCII fallback name and the RFC 5987
// UTF-8 name.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == ';' {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + strings.ReplaceAll(url.PathEscape(name), "'", "%27")
}

// readUpload reads the multipart form of an upload: the "file" part (at most
// MaxAttachmentSize bytes) and the optional "public" field.
func readUpload(r *http.Request) (name string, data []byte, public bool, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return "", nil, false, apperr.New(apperr.Malformed, "ticket.error.multipart").OnField("file")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, false, apperr.New(apperr.Malformed, "ticket.error.multipart").OnField("file")
	}
	found := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, false, uploadErr(err)
		}
		switch part.FormName() {
		case "file":
			if found {
				_ = part.Close()
				continue
			}
			found, name = true, part.FileName()
			data, err = io.ReadAll(io.LimitReader(part, MaxAttachmentSize+1))
			if err != nil {
				return "", nil, false, uploadErr(err)
			}
			if len(data) > MaxAttachmentSize {
				return "", nil, false, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxAttachmentSize).OnField("file")
			}
		case "public":
			v, _ := io.ReadAll(io.LimitReader(part, 16))
			public, _ = strconv.ParseBool(strings.TrimSpace(string(v)))
		}
		_ = part.Close()
	}
	if !found {
		return "", nil, false, apperr.InvalidField("file", "field.required")
	}
	return name, data, public, nil
}

func uploadErr(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return apperr.New(apperr.TooLarge, "error.too_large", "limit", mb.Limit).OnField("file")
	}
	return apperr.New(apperr.Malformed, "ticket.error.multipart").OnField("file").WithCause(err)
}

// ======================= HTTP =======================

func (a api) upload(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	name, data, public, err := readUpload(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	att, err := a.s.AddAttachment(r.Context(), id, AttachmentInput{Filename: name, Data: data, Public: public})
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v := att.View()
	httpx.Created(w, v.URL, v)
}

func (a api) listAttachments(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	as, err := a.s.ListAttachments(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[AttachmentView]{Items: make([]AttachmentView, len(as))}
	for i, at := range as {
		out.Items[i] = at.View()
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) download(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	att, data, err := a.s.GetAttachment(r.Context(), 0, id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ServeAttachment(w, att, data)
}
