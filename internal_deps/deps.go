package deps
import (
_ "github.com/maxence-charriere/go-app/v10/pkg/app"
_ "golang.org/x/oauth2"
_ "github.com/coreos/go-oidc/v3/oidc"
_ "github.com/gorilla/sessions"
_ "github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
_ "golang.org/x/time/rate"
_ "github.com/prometheus/client_golang/prometheus"
_ "github.com/BurntSushi/toml"
_ "github.com/zitadel/oidc/v3/pkg/op"
_ "github.com/chromedp/chromedp"
_ "github.com/google/go-cmp/cmp"
_ "github.com/redis/go-redis/v9"
_ "github.com/go-redis/redis_rate/v10"
)
