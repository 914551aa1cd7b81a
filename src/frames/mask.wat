;; Masking (RFC 6455 §5.3) in WebAssembly with 128-bit SIMD: the rule of mask.ts, octet i XOR
;; key octet (i mod 4), sixteen octets at a time. mask-wasm.ts copies a payload through this
;; module's memory in pieces of 16 KiB (so the copy stays in the CPU's cache) and calls `xor` on
;; each piece; scripts/build-wasm.js assembles this file into mask-wasm-bytes.ts.
(module
  ;; One page (64 KiB) holds the largest piece.
  (memory (export "memory") 1)

  ;; XORs memory[0 .. len) in place with the masking key. `key` holds the four key octets as they
  ;; lie in memory (a little-endian i32: the octet for position 0 in its lowest byte), already
  ;; rotated by the caller so that memory[0] takes the right one.
  (func (export "xor") (param $len i32) (param $key i32)
    (local $i i32)
    (local $keys v128)
    (local $wide i32)
    ;; The key repeated four times across a 128-bit lane: positions 0..15 take octets 0,1,2,3,0,1,…
    (local.set $keys (i32x4.splat (local.get $key)))
    ;; 64 octets per turn (four 16-octet XORs), then what is left 4 and then 1 octet at a time.
    (local.set $wide (i32.and (local.get $len) (i32.const -64)))
    (block $done
      (loop $by64
        (br_if $done (i32.ge_u (local.get $i) (local.get $wide)))
        (v128.store offset=0 (local.get $i) (v128.xor (v128.load offset=0 (local.get $i)) (local.get $keys)))
        (v128.store offset=16 (local.get $i) (v128.xor (v128.load offset=16 (local.get $i)) (local.get $keys)))
        (v128.store offset=32 (local.get $i) (v128.xor (v128.load offset=32 (local.get $i)) (local.get $keys)))
        (v128.store offset=48 (local.get $i) (v128.xor (v128.load offset=48 (local.get $i)) (local.get $keys)))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $by64)))
    (block $done
      (loop $by4
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $len)))
        (i32.store (local.get $i) (i32.xor (i32.load (local.get $i)) (local.get $key)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $by4)))
    ;; The last 0..3 octets: the key's low byte is the octet for the next position.
    (block $done
      (loop $by1
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (local.get $i) (i32.xor (i32.load8_u (local.get $i)) (local.get $key)))
        (local.set $key (i32.shr_u (local.get $key) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $by1))))
)
