-- wrk script: POST /login as a browser would, with the XSRF cookie and header,
-- rotating over WRK_ACCOUNTS accounts (load1@example.com ... loadN@example.com,
-- all with WRK_PASSWORD): one account admits at most GATEHOUSE_LOGIN_FAILURES
-- attempts in flight at once, so a single account cannot take 16 connections.
-- Env: WRK_XSRF (the XSRF-TOKEN cookie value), WRK_ACCOUNTS, WRK_PASSWORD,
-- WRK_XSRF_COOKIE (default XSRF-TOKEN), WRK_XSRF_HEADER (default X-XSRF-TOKEN).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local x = os.getenv("WRK_XSRF")
if x and #x > 0 then
  local cname = os.getenv("WRK_XSRF_COOKIE") or "XSRF-TOKEN"
  local hname = os.getenv("WRK_XSRF_HEADER") or "X-XSRF-TOKEN"
  wrk.headers["Cookie"] = cname .. "=" .. x
  wrk.headers[hname] = x
end
local accounts = tonumber(os.getenv("WRK_ACCOUNTS") or "1")
local password = os.getenv("WRK_PASSWORD") or ""
local bodies = {}
for i = 1, accounts do
  bodies[i] = '{"email":"load' .. i .. '@example.com","password":"' .. password .. '"}'
end
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % accounts) + 1])
end
