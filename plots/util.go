package plots

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"strconv"
	"strings"
)

func strconvFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// xmlEscape escapes s for XML/HTML text and attribute values.
func xmlEscape(s string) string { return xmlEscaper.Replace(s) }

// pngDataURI encodes img as a data:image/png;base64 URI.
func pngDataURI(img image.Image) (string, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", fmt.Errorf("plots: encoding thumbnail: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), nil
}
