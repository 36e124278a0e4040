-- wrk script: POST /login as a browser would, with the XSRF cookie and header.
-- Env: WRK_BODY (JSON), WRK_XSRF (the XSRF-TOKEN cookie value),
-- WRK_XSRF_COOKIE (cookie name, default XSRF-TOKEN),
-- WRK_XSRF_HEADER (header name, default X-XSRF-TOKEN).
wrk.method = "POST"
wrk.body   = os.getenv("WRK_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
local x = os.getenv("WRK_XSRF")
if x and #x > 0 then
  local cname = os.getenv("WRK_XSRF_COOKIE") or "XSRF-TOKEN"
  local hname = os.getenv("WRK_XSRF_HEADER") or "X-XSRF-TOKEN"
  wrk.headers["Cookie"] = cname .. "=" .. x
  wrk.headers[hname] = x
end
