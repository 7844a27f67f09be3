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
 * KEYS: meta, history stream, conflated values, conflated index.
 * ARGV: channel, mode, historySize, historyTtl, now, tail, key, newEpoch, metaTtl.
 * Returns {offset, epoch}.
 */
export const PUBLISH_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[8]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local size = tonumber(ARGV[3])
if size > 0 then
  if ARGV[2] == 'reliable' then
    redis.call('XADD', KEYS[2], 'MAXLEN', size, offset .. '-1', 't', ARGV[5], 'm', ARGV[6])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
  else
    redis.call('HSET', KEYS[3], ARGV[7], offset .. ' ' .. ARGV[5] .. '\\n' .. ARGV[6])
    redis.call('ZADD', KEYS[4], offset, ARGV[7])
    local extra = redis.call('ZCARD', KEYS[4]) - size
    if extra > 0 then
      local gone = redis.call('ZPOPMIN', KEYS[4], extra)
      for i = 1, #gone, 2 do redis.call('HDEL', KEYS[3], gone[i]) end
    end
    redis.call('PEXPIRE', KEYS[3], ARGV[4])
    redis.call('PEXPIRE', KEYS[4], ARGV[4])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('PUBLISH', ARGV[1], offset .. ' ' .. epoch .. ' ' .. ARGV[5] .. '\\n' .. ARGV[6])
return {offset, epoch}
`;

/**
 * KEYS: meta, history stream, conflated values.
 * ARGV: mode, newEpoch, metaTtl, since offset (-1 for none).
 * Returns {epoch, offset, entries}: the stream entries after `since` (reliable) or every
 * conflated value.
 */
export const HISTORY_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
if ARGV[1] == 'conflated' then
  return {epoch, offset, redis.call('HVALS', KEYS[3])}
end
local since = tonumber(ARGV[4])
if since < 0 or since >= offset then
  return {epoch, offset, {}}
end
return {epoch, offset, redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')}
`;
