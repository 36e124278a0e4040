package redis

import (
	"fmt"
	"strings"
)

// slotCount is the number of hash slots of a Redis Cluster.
const slotCount = 16384

// keySlot is the Redis Cluster hash slot of key: CRC16 (XMODEM) of its hash
// tag, the part between the first "{" and the next "}" when that part is
// not empty, or else of the whole key, modulo 16384 (the cluster
// specification's HASH_SLOT). rueidis computes it too, but only inside a
// cluster client's command builder; the stores check their keys on every
// deployment.
func keySlot(key string) uint16 {
	if _, rest, ok := strings.Cut(key, "{"); ok {
		if tag, _, ok := strings.Cut(rest, "}"); ok && tag != "" {
			key = tag
		}
	}
	return crc16(key) % slotCount
}

// oneSlot returns an error unless every key hashes to the slot of the
// first: a script or a multi-key command on a cluster must stay in one.
func oneSlot(keys []string) error {
	if len(keys) < 2 {
		return nil
	}
	want := keySlot(keys[0])
	for _, k := range keys[1:] {
		if keySlot(k) != want {
			// Keys hold emails and phones: the error names the slots only.
			return fmt.Errorf("redis: keys of one call span hash slots %d and %d", want, keySlot(k))
		}
	}
	return nil
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the
// checksum Redis Cluster hashes keys with.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^s[i]]
	}
	return crc
}

var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()
