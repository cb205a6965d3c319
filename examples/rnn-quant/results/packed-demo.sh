#!/bin/bash
# run from a folder holding lstm128.st (the float target model)
R=resq
$R retrain lstm128.st --bits 2 --epochs 3 --lr 0.0005 --optimizer adam --clip 1 --data seq-mnist --out t2.st
$R export t2.st --out t2.rq
$R infer t2.rq --data seq-mnist --check t2.st
$R retrain lstm128.st --bits 2 --per-gate --epochs 3 --lr 0.0005 --optimizer adam --clip 1 --data seq-mnist --out t2g.st
$R export t2g.st --out t2g.rq
$R infer t2g.rq --data seq-mnist --check t2g.st
$R retrain lstm128.st --bits 3 --state-bits 4 --epochs 3 --lr 0.0005 --optimizer adam --clip 1 --data seq-mnist --out t3s.st
$R export t3s.st --out t3s.rq
$R infer t3s.rq --data seq-mnist --check t3s.st
