-- wrk script: each request asks for a random slice of BENCH_SLICE bytes
-- (default 64 KiB) of a file of BENCH_FILE_SIZE bytes with a Range header.
-- Seeds are fixed per wrk thread, so every server gets the same sequence.

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local size = tonumber(os.getenv("BENCH_FILE_SIZE"))
local slice = tonumber(os.getenv("BENCH_SLICE") or "65536")
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   math.randomseed(4242 + (tid or 0))
end

function request()
   local first = math.random(0, size - slice)
   local range = string.format("bytes=%d-%d", first, first + slice - 1)
   return wrk.format(nil, nil, { ["Range"] = range })
end
