module app-infra/tools/engine/lab-sshd

go 1.26.6

require golang.org/x/crypto v0.58.0

require golang.org/x/sys v0.49.0 // indirect
