;; CSR × dense products with WebAssembly SIMD (graph/gnn/csr-simd.ts loads this; `npm run build:wasm`
;; compiles it into csr-simd.wasm.ts). It must round exactly as csrTimesDenseScalar in sparse.ts does,
;; since replay compares weights bit for bit: each output element sums its row's entries in order,
;; each product and sum in float64 and the sum rounded to float32 after every addition. So the
;; accumulators are f64x2 (two columns each), demoted to f32 and promoted back after each addition.
;;
;; spmm(rows, d, rowPtr, cols, vals, x, out): byte addresses in this memory of rowPtr (i32, rows + 1),
;; cols (i32), vals (f32), x (f32, row-major with d columns) and out (f32, rows × d, written).
;; Columns go sixteen at a time (eight accumulators, one pass over a row's entries), then two at a
;; time, then the last one alone.
(module
  (memory (export "memory") 1)
  (func (export "spmm") (param $rows i32) (param $d i32) (param $rowPtr i32) (param $cols i32) (param $vals i32) (param $x i32) (param $out i32)
    (local $r i32) (local $start i32) (local $end i32) (local $k i32) (local $p i32) (local $o i32) (local $base i32) (local $rowBytes i32)
    (local $v v128) (local $s f64)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $start (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $end (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $k (i32.const 0))
      (block $b16Done (loop $b16
        (br_if $b16Done (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $d)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0))
        (local.set $a3 (v128.const i64x2 0 0))
        (local.set $a4 (v128.const i64x2 0 0))
        (local.set $a5 (v128.const i64x2 0 0))
        (local.set $a6 (v128.const i64x2 0 0))
        (local.set $a7 (v128.const i64x2 0 0))
        (local.set $p (local.get $start))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))))
          (local.set $base (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)) (local.get $k)) (i32.const 2))))
          (local.set $a0 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 align=4 (local.get $base))))))))
          (local.set $a1 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a1) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $base))))))))
          (local.set $a2 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a2) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 align=4 (local.get $base))))))))
          (local.set $a3 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a3) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 align=4 (local.get $base))))))))
          (local.set $a4 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a4) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=32 align=4 (local.get $base))))))))
          (local.set $a5 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a5) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=40 align=4 (local.get $base))))))))
          (local.set $a6 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a6) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=48 align=4 (local.get $base))))))))
          (local.set $a7 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a7) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=56 align=4 (local.get $base))))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (v128.store64_lane offset=0 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a0)))
        (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a1)))
        (v128.store64_lane offset=16 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a2)))
        (v128.store64_lane offset=24 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a3)))
        (v128.store64_lane offset=32 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a4)))
        (v128.store64_lane offset=40 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a5)))
        (v128.store64_lane offset=48 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a6)))
        (v128.store64_lane offset=56 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a7)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $b16)))
      (block $b2Done (loop $b2
        (br_if $b2Done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $d)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $p (local.get $start))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))))
          (local.set $base (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)) (local.get $k)) (i32.const 2))))
          (local.set $a0 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add (local.get $a0) (f64x2.mul (local.get $v) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 align=4 (local.get $base))))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (v128.store64_lane offset=0 align=4 0 (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $a0)))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $b2)))
      (if (i32.lt_u (local.get $k) (local.get $d)) (then
        (local.set $s (f64.const 0))
        (local.set $p (local.get $start))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $s (f64.promote_f32 (f32.demote_f64 (f64.add (local.get $s) (f64.mul
            (f64.promote_f32 (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))
            (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)) (local.get $k)) (i32.const 2))))))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $qLoop)))
        (f32.store (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 2))) (f32.demote_f64 (local.get $s)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowLoop)))
  )
)
