package main

import (
	"encoding"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// The layers over the defaults: the TOML file, then the TIMCONSOLE_*
// environment overlay.

// secretKeys are the TOML keys refused in the file, per section.
var secretKeys = map[string]string{
	"oidc.client_secret": EnvPrefix + "_OIDC_CLIENT_SECRET or oidc.client_secret_file",
	"session.keys":       EnvPrefix + "_SESSION_KEYS or session.keys_file",
	"redis.password":     EnvPrefix + "_REDIS_PASSWORD or redis.password_file",
}

// decodeFile reads the TOML file over cfg. Unknown keys and secrets in the
// file are problems (a typo must not silently fall back to a default).
func decodeFile(r io.Reader, name string, cfg *Config, p *problems) {
	md, err := toml.NewDecoder(r).Decode(cfg)
	if err != nil {
		p.add("%s: %v", name, err)
		return
	}
	for key, where := range secretKeys {
		if md.IsDefined(strings.Split(key, ".")...) {
			p.add("%s: %s is a secret and is not accepted in the file; use %s", name, key, where)
		}
	}
	for id := range cfg.Apps {
		if md.IsDefined("apps", id, "key") {
			p.add("%s: apps.%s.key is a secret and is not accepted in the file; use %s or apps.%s.key_file", name, id, appEnv(id, "key"), id)
		}
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.add("%s: unknown setting %q", name, k)
	}
}

// appEnv is the variable of one app setting.
func appEnv(id, key string) string {
	return envName(EnvPrefix, "apps", id, key)
}

func envName(parts ...string) string {
	s := strings.Join(parts, "_")
	s = strings.NewReplacer("-", "_", ".", "_").Replace(s)
	return strings.ToUpper(s)
}

// applyEnv overrides cfg with every TIMCONSOLE_* variable that is set.
// TIMCONSOLE_APPS (a comma-separated list of IDs) declares apps that exist
// only in the environment.
func applyEnv(getenv func(string) string, cfg *Config, p *problems) {
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		section := tomlName(f)
		if section == "apps" {
			continue
		}
		overlay(getenv, v.Field(i), envName(EnvPrefix, section), section, p)
	}
	if list := getenv(EnvPrefix + "_APPS"); list != "" {
		for _, id := range splitList(list) {
			if _, ok := cfg.Apps[id]; !ok {
				cfg.Apps[id] = &AppConfig{}
			}
		}
	}
	for id, a := range cfg.Apps {
		if a == nil {
			a = &AppConfig{}
			cfg.Apps[id] = a
		}
		overlay(getenv, reflect.ValueOf(a).Elem(), envName(EnvPrefix, "apps", id), "apps."+id, p)
	}
}

// overlay sets each field of the struct v whose variable is set.
func overlay(getenv func(string) string, v reflect.Value, prefix, path string, p *problems) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := tomlName(f)
		env := envName(prefix, name)
		raw, set := getenv(env), getenv(env) != ""
		if !set {
			continue
		}
		if err := setFromText(v.Field(i), raw); err != nil {
			p.add("%s (%s.%s): %v", env, path, name, err)
		}
	}
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

var durationType = reflect.TypeFor[Duration]()

// setFromText parses an environment value into a config field. Error
// messages never echo secret values.
func setFromText(f reflect.Value, raw string) error {
	if f.Type() == durationType {
		var d Duration
		if err := d.UnmarshalText([]byte(raw)); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(d))
		return nil
	}
	if tu, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok && f.Kind() != reflect.String {
		return tu.UnmarshalText([]byte(raw))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Slice:
		f.Set(reflect.ValueOf(splitList(raw)))
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		f.SetInt(n)
	case reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a positive whole number", raw)
		}
		f.SetUint(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", raw)
		}
		f.SetFloat(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// splitList splits on commas and white space, dropping empty items.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}
