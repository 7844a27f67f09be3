/**
 * The Lua scripts of the Redis adapter. Each runs atomically inside Redis, which is what
 * orders a topic's messages across every node: the offset is assigned, the message stored
 * in history and published to the nodes in one step.
 *
 * Wire forms (all binary-safe):
 * - publication on the pub/sub channel: "<offset> <epoch> <time>\n" + tail
 * - history stream entry: id "<offset>-1", fields t=<time>, m=tail
 * - conflated value (hash field = key): "<offset> <time>\n" + tail
 * where tail is MessagePack [key | nil, except | nil, data], encoded by the publishing node.
 *
 * Keys of one topic share the hash tag {topic}, so the scripts also run on Redis Cluster.
 */

/**
 * KEYS: meta, history stream, conflated values, conflated index, idempotency keys (hash:
 * key → "<offset> <epoch>"), idempotency times (sorted set: key → time).
 * ARGV: channel, mode, historySize, historyTtl, now, tail, key, newEpoch, metaTtl,
 * idempotencyKey ('' for none), idempotencyWindow, maxIdempotencyKeys.
 * Returns {offset, epoch}, or {offset, epoch, 1} when the idempotency key was already used
 * within the window in this epoch (then nothing is published).
 */
export const PUBLISH_SCRIPT = `
-- Sets hash[member] = value and index[member] = score, keeping the max members of highest
-- score (the others leave both), both keys expiring after ttl ms.
local function keep(hash, index, member, value, score, max, ttl)
  redis.call('HSET', hash, member, value)
  redis.call('ZADD', index, score, member)
  local extra = redis.call('ZCARD', index) - max
  if extra > 0 then
    local gone = redis.call('ZPOPMIN', index, extra)
    for i = 1, #gone, 2 do redis.call('HDEL', hash, gone[i]) end
  end
  redis.call('PEXPIRE', hash, ttl)
  redis.call('PEXPIRE', index, ttl)
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[8]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local idem = ARGV[10]
if idem ~= '' then
  local cutoff = '(' .. (tonumber(ARGV[5]) - tonumber(ARGV[11]))
  local gone = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', cutoff)
  for i = 1, #gone do redis.call('HDEL', KEYS[5], gone[i]) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', cutoff) end
  local prev = redis.call('HGET', KEYS[5], idem)
  if prev then
    local o, e = string.match(prev, '^(%d+) (.+)$')
    if e == epoch then return {tonumber(o), epoch, 1} end
  end
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local size = tonumber(ARGV[3])
if size > 0 then
  if ARGV[2] == 'reliable' then
    redis.call('XADD', KEYS[2], 'MAXLEN', size, offset .. '-1', 't', ARGV[5], 'm', ARGV[6])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
  else
    keep(KEYS[3], KEYS[4], ARGV[7], offset .. ' ' .. ARGV[5] .. '\\n' .. ARGV[6], offset, size, ARGV[4])
  end
end
if idem ~= '' then
  keep(KEYS[5], KEYS[6], idem, offset .. ' ' .. epoch, ARGV[5], tonumber(ARGV[12]), ARGV[11])
end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('PUBLISH', ARGV[1], offset .. ' ' .. epoch .. ' ' .. ARGV[5] .. '\\n' .. ARGV[6])
return {offset, epoch}
`;

/**
 * KEYS: meta, history stream, conflated values.
 * ARGV: mode, newEpoch, metaTtl, since offset (-1 for none), since epoch.
 * Returns {epoch, offset, entries}: reliable, the stream entries after `since` when it is
 * in this epoch and not past the head, every entry otherwise (so that nothing history
 * holds is lost to a subscriber from another epoch), none without `since`; conflated,
 * every value. Each read keeps the topic's meta alive for metaTtl.
 */
export const HISTORY_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
if ARGV[1] == 'conflated' then
  return {epoch, offset, redis.call('HVALS', KEYS[3])}
end
local since = tonumber(ARGV[4])
if since < 0 or (ARGV[5] == epoch and since == offset) then
  return {epoch, offset, {}}
end
if ARGV[5] == epoch and since < offset then
  return {epoch, offset, redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')}
end
return {epoch, offset, redis.call('XRANGE', KEYS[2], '-', '+')}
`;
