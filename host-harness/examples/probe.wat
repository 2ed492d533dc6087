;; A filter that keeps every record, written straight against the SmartModule ABI in WAT:
;; no toolchain needed.
;;   harness test --module host-harness/examples/probe.wat --input host-harness/examples/fruit.txt
(module
  (import "env" "copy_records" (func $copy_records (param i32 i32)))
  (memory (export "memory") 1)

  ;; The host asks for room for each input: it goes at 1024, in a memory grown to fit.
  (func (export "alloc") (param $len i32) (result i32)
    (local $pages i32)
    (local.set $pages
      (i32.div_u (i32.add (i32.add (i32.const 1024) (local.get $len)) (i32.const 65535))
                 (i32.const 65536)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))))
    (i32.const 1024))

  ;; A big-endian i32, as fluvio-protocol writes lengths.
  (func $be32 (param $at i32) (result i32)
    (i32.or
      (i32.or (i32.shl (i32.load8_u (local.get $at)) (i32.const 24))
              (i32.shl (i32.load8_u offset=1 (local.get $at)) (i32.const 16)))
      (i32.or (i32.shl (i32.load8_u offset=2 (local.get $at)) (i32.const 8))
              (i32.load8_u offset=3 (local.get $at)))))

  ;; The input is the base offset (8 bytes), then the records as a length-prefixed byte
  ;; string; those bytes are a Vec<Record>, which is also how the output starts. Then one
  ;; byte 0: no runtime error.
  (func (export "filter") (param $ptr i32) (param $len i32) (param $version i32) (result i32)
    (local $records i32)
    (local $size i32)
    (local.set $size (call $be32 (i32.add (local.get $ptr) (i32.const 8))))
    (local.set $records (i32.add (local.get $ptr) (i32.const 12)))
    (i32.store8 (i32.add (local.get $records) (local.get $size)) (i32.const 0))
    (call $copy_records (local.get $records) (i32.add (local.get $size) (i32.const 1)))
    (i32.const 0)))
