# packaging/ — `make install` (DESTDIR, PREFIX) and `make deb` (lockbox-broker, lockbox-host,
# lockbox-client). Installs whichever programs are built; nothing here activates anything: on a
# host, `lockbox-host-setup activate` (or the lockbox-host package) turns the gate on.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
# Linux-PAM loads modules by bare name from here only, whatever PREFIX is.
PAMDIR     ?= /lib/$(MULTIARCH)/security
PAMCONFDIR ?= /usr/share/pam-configs
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)

PKG_SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
                -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
PKG_GEN   := $(BUILD)/packaging
# Configuration files with commented defaults: packaging/etc/NAME.conf.in -> /etc/lockbox/NAME.conf
PKG_CONFS := $(patsubst packaging/etc/%.in,$(PKG_GEN)/etc/%,$(wildcard packaging/etc/*.conf.in))
PKG_FILES := $(PKG_GEN)/lockboxd.service $(PKG_GEN)/sshd-lockbox.conf \
             $(PKG_GEN)/lockbox-host-setup $(PKG_CONFS)
MAN_PAGES := $(wildcard packaging/man/*.[1-8])
# The web console's pages (lockboxd.conf: console_web_dir).
CONSOLE_WEB := $(wildcard broker/lockboxd/console/web/*)

$(PKG_GEN)/lockboxd.service: packaging/systemd/lockboxd.service.in $(PKG_GEN)/paths
$(PKG_GEN)/sshd-lockbox.conf: packaging/sshd/lockbox.conf.in $(PKG_GEN)/paths
$(PKG_GEN)/lockbox-host-setup: packaging/lockbox-host-setup.in $(PKG_GEN)/paths
$(PKG_CONFS): $(PKG_GEN)/etc/%: packaging/etc/%.in $(PKG_GEN)/paths
$(PKG_FILES):
	@mkdir -p $(dir $@)
	$(PKG_SUBST) $(filter %.in,$^) >$@
	@case $@ in *-setup) chmod 0755 $@ ;; esac
# Paths baked into the generated files: rewritten (and so regenerating them) only when a
# variable changed, e.g. `make install PREFIX=/usr` after a plain `make`.
$(PKG_GEN)/paths: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SBINDIR) $(LIBEXECDIR) $(DATADIR) $(SYSCONFDIR)' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
PROGRAMS += $(PKG_FILES)

.PHONY: FORCE packaging-files deb
FORCE:
packaging-files: $(PKG_FILES)

# install_one MODE SRC DIR: copies SRC into $(DESTDIR)DIR when SRC was built.
install_one = if [ -f $(2) ]; then install -D -m $(1) $(2) $(DESTDIR)$(3)/$(notdir $(2)); \
              else echo "install: $(2) not built, skipped"; fi
# install_conf SRC DEST: a configuration file is never overwritten on a live system; a newer
# default lands next to it as DEST.dist.
install_conf = if [ -z "$(DESTDIR)" ] && [ -e $(2) ]; then install -m 0644 $(1) $(2).dist; \
               echo "install: $(2) kept, new defaults in $(2).dist"; \
               else install -D -m 0644 $(1) $(DESTDIR)$(2); fi

install: programs $(PKG_FILES)
	$(call install_one,0755,$(BUILD)/lockboxctl,$(BINDIR))
	$(call install_one,0755,$(BUILD)/lockboxd,$(SBINDIR))
	for f in $(CONSOLE_WEB); do install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/lockbox/web/$${f##*/}; done
	$(call install_one,0755,$(BUILD)/lockbox-reaper,$(LIBEXECDIR)/lockbox)
	$(call install_one,0755,$(BUILD)/lockbox-session,$(LIBEXECDIR)/lockbox)
	$(call install_one,0755,$(BUILD)/lockbox-host-check,$(LIBEXECDIR)/lockbox)
	$(call install_one,0644,$(BUILD)/pam_lockbox.so,$(PAMDIR))
	install -D -m 0755 $(PKG_GEN)/lockbox-host-setup $(DESTDIR)$(SBINDIR)/lockbox-host-setup
	install -D -m 0644 $(PKG_GEN)/sshd-lockbox.conf $(DESTDIR)$(DATADIR)/lockbox/sshd-lockbox.conf
	install -D -m 0644 packaging/pam/lockbox $(DESTDIR)$(PAMCONFDIR)/lockbox
	install -D -m 0644 $(PKG_GEN)/lockboxd.service $(DESTDIR)$(UNITDIR)/lockboxd.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/lockbox $(DESTDIR)$(SYSCONFDIR)/lockbox/keys
	$(foreach c,$(PKG_CONFS),$(call install_conf,$(c),$(SYSCONFDIR)/lockbox/$(notdir $(c)));)
	for m in $(MAN_PAGES); do \
	    install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	@if [ -z "$(DESTDIR)" ] && [ -f $(BUILD)/lockbox-session ]; then \
	    if getent group lockbox-rec >/dev/null; then \
	        chown root:lockbox-rec $(LIBEXECDIR)/lockbox/lockbox-session && \
	        chmod 2755 $(LIBEXECDIR)/lockbox/lockbox-session; \
	    else echo "install: note: lockbox-session must be setgid lockbox-rec;" \
	        "'$(SBINDIR)/lockbox-host-setup activate' creates the group and sets it"; fi; fi

deb: packaging-files
	@BUILD=$(BUILD) sh packaging/build-deb.sh
