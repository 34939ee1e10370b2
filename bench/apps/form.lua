-- wrk script: POST a multipart form (a text field and a 100 KiB file part) for util.FieldStorage.
local boundary = "----benchboundary7MA4YWxkTrZu0gW"
local parts = {
  "--" .. boundary,
  'Content-Disposition: form-data; name="name"',
  "",
  "bench",
  "--" .. boundary,
  'Content-Disposition: form-data; name="upload"; filename="data.bin"',
  "Content-Type: application/octet-stream",
  "",
  string.rep("y", 100 * 1024),
  "--" .. boundary .. "--",
  "",
}
wrk.method = "POST"
wrk.body = table.concat(parts, "\r\n")
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
