-- wrk script: POST a 100 KiB body (application/octet-stream), read by req.read().
wrk.method = "POST"
wrk.body = string.rep("x", 100 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
