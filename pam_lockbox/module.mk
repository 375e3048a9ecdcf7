# pam_lockbox/ — pam_lockbox.so: not built yet (issue 4).
