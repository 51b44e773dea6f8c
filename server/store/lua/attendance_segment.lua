-- The live segment changed: close the old one's marks and open the new one's, exactly once.
-- KEYS[1]  segment_now HASH {id, started_at}   KEYS[2] users ZSET (online)   KEYS[3] in_hall SET
-- KEYS[4]  segment_marks HASH                  KEYS[5] viewers SET of the new segment
-- KEYS[6]  in_person SET of the new segment
-- ARGV[1]  new segment id or ""   ARGV[2] now (unix s)   ARGV[3] key TTL (s)
-- returns  1 when the segment changed, 0 when it was already recorded
--#include lib_segment
return segment_change(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], ARGV[2], ARGV[3])
