;; CSR × dense products with WebAssembly SIMD (graph/gnn/csr-simd.ts loads this; `npm run build:wasm`
;; compiles it into csr-simd.wasm.ts). It must round exactly as csrTimesDenseScalar in sparse.ts does,
;; since replay compares weights bit for bit: each output element sums its row's entries in order in
;; float32, each product rounded to float32 and then added (no fused multiply-add). Four columns
;; share a vector: f32x4 lanes round as float32 scalars do.
;;
;; spmm(rows, d, rowPtr, cols, vals, x, out): byte addresses in this memory of rowPtr (i32, rows + 1),
;; cols (i32), vals (f32), x (f32, row-major with d columns) and out (f32, rows × d, written).
;; Columns go sixteen at a time (four accumulators, one pass over a row's entries), then four at a
;; time, then the last one to three in one vector whose other lanes are dropped: its loads read up
;; to 12 bytes past a row of x, so the caller leaves 12 bytes of memory after x.
(module
  (memory (export "memory") 1)
  (func (export "spmm") (param $rows i32) (param $d i32) (param $rowPtr i32) (param $cols i32) (param $vals i32) (param $x i32) (param $out i32)
    (local $r i32) (local $start i32) (local $end i32) (local $k i32) (local $p i32) (local $o i32) (local $base i32) (local $rowBytes i32) (local $left i32)
    (local $v v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $start (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $end (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $k (i32.const 0))
      (block $b16Done (loop $b16
        (br_if $b16Done (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $d)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $start))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))))
          (local.set $base (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)) (local.get $k)) (i32.const 2))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load offset=0 align=4 (local.get $base)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (v128.load offset=16 align=4 (local.get $base)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (v128.load offset=32 align=4 (local.get $base)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (v128.load offset=48 align=4 (local.get $base)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (v128.store offset=0 align=4 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a0))
        (v128.store offset=16 align=4 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a1))
        (v128.store offset=32 align=4 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a2))
        (v128.store offset=48 align=4 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a3))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $b16)))
      (block $b4Done (loop $b4
        (br_if $b4Done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $d)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $start))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))))
          (local.set $base (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)) (local.get $k)) (i32.const 2))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load offset=0 align=4 (local.get $base)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (v128.store offset=0 align=4 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a0))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $b4)))
      (local.set $left (i32.sub (local.get $d) (local.get $k)))
      (if (local.get $left) (then
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $start))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))))
          (local.set $base (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)) (local.get $k)) (i32.const 2))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load offset=0 align=4 (local.get $base)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (if (i32.eq (local.get $left) (i32.const 1))
          (then (v128.store32_lane offset=0 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a0)))
          (else
            (v128.store64_lane offset=0 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a0))
            (if (i32.eq (local.get $left) (i32.const 3)) (then (v128.store32_lane offset=8 align=4 2 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (local.get $a0))))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowLoop)))
  )
)
