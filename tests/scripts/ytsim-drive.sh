#!/bin/sh
# ytsim-drive: Google OAuth grants (refresh, device code, JWT bearer) and the
# Drive v3 protocol of ytsim with curl: folders, multipart upload, the
# resumable protocol (308 + Range, 256 KiB alignment, status query, 404 for
# dead sessions), md5Checksum, received files, token expiry and error
# bodies shaped like the real ones.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
F=$SHARED/fixtures
CID=ytsim-client.apps.googleusercontent.com
CSEC=ytsim-client-secret
ytsim_start --scenario builtin --speed 0

st() { # NAME CURL-ARGS...: runs curl, body into $T/NAME, prints the status
    n=$1
    shift
    curl -s -o "$T/$n" -D "$T/$n.h" -w '%{http_code}' "$@"
}
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# --- OAuth ---------------------------------------------------------------
[ "$(st bad -d grant_type=refresh_token -d client_id=$CID -d client_secret=$CSEC \
    -d refresh_token=nope "$YS_URL/token")" = 400 ] || fail "bad refresh token"
shape_opt '.' "$F/google-oauth/token-error-400-invalid_grant.json" "$T/bad" ||
    fail "invalid_grant shape"
[ "$(st tok -d grant_type=refresh_token -d client_id=$CID -d client_secret=$CSEC \
    --data-urlencode refresh_token=1//ytsim-refresh-token "$YS_URL/token")" = 200 ] ||
    fail "refresh: $(cat "$T/tok")"
shape_opt '^(access_token|expires_in|token_type)$' \
    "$F/google-oauth/token-refresh-success-python-youtube.json" "$T/tok" || fail "token shape"
jq -e '(.scope | type) == "string" and .expires_in == 3599' "$T/tok" >/dev/null ||
    fail "scope must be a space-separated string"
AT=$(jq -r .access_token "$T/tok")
H="Authorization: Bearer $AT"

# device code flow: one pending poll, then a refresh token that works
st dc -d client_id=$CID -d scope=https://www.googleapis.com/auth/drive.file \
    "$YS_URL/device/code" >/dev/null
DC=$(jq -r .device_code "$T/dc")
jq -e '.user_code and .verification_url and .interval > 0' "$T/dc" >/dev/null || fail "device code"
G=urn:ietf:params:oauth:grant-type:device_code
[ "$(st p1 -d client_id=$CID -d client_secret=$CSEC -d device_code="$DC" -d grant_type=$G "$YS_URL/token")" = 428 ] ||
    fail "first device poll not pending"
jq -e '.error == "authorization_pending"' "$T/p1" >/dev/null || fail "pending body"
[ "$(st p2 -d client_id=$CID -d client_secret=$CSEC -d device_code="$DC" -d grant_type=$G "$YS_URL/token")" = 200 ] ||
    fail "device approval"
RT=$(jq -r .refresh_token "$T/p2")
[ "$(st p3 -d grant_type=refresh_token -d client_id=$CID -d client_secret=$CSEC \
    --data-urlencode "refresh_token=$RT" "$YS_URL/token")" = 200 ] || fail "device refresh token"

# JWT bearer (no public key configured: structure and claims only)
now=$(date +%s)
jwt() { # IAT EXP
    h=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
    c=$(printf '{"iss":"sa@p.iam.gserviceaccount.com","scope":"https://www.googleapis.com/auth/drive","aud":"https://oauth2.googleapis.com/token","iat":%s,"exp":%s}' "$1" "$2" | b64url)
    printf '%s.%s.%s' "$h" "$c" "$(printf sig | b64url)"
}
JB=urn:ietf:params:oauth:grant-type:jwt-bearer
[ "$(st j1 -d grant_type=$JB -d assertion="$(jwt "$now" $((now + 3600)))" "$YS_URL/token")" = 200 ] ||
    fail "jwt grant: $(cat "$T/j1")"
jq -e 'has("refresh_token") | not' "$T/j1" >/dev/null || fail "jwt grant gave a refresh token"
[ "$(st j2 -d grant_type=$JB -d assertion="$(jwt "$now" $((now + 7200)))" "$YS_URL/token")" = 400 ] ||
    fail "2 h JWT accepted"
[ "$(st j3 -d grant_type=$JB -d assertion=a.b "$YS_URL/token")" = 400 ] || fail "malformed JWT accepted"

# --- Drive: auth, folders ----------------------------------------------
[ "$(st na "$YS_URL/drive/v3/files")" = 401 ] || fail "no token not 401"
shape_opt '.' "$F/drive/error-401-authError.json" "$T/na" || fail "authError shape"
[ "$(st mk -H "$H" -H 'Content-Type: application/json' \
    -d '{"name":"tube watch","mimeType":"application/vnd.google-apps.folder","parents":["root"]}' \
    "$YS_URL/drive/v3/files?fields=id")" = 200 ] || fail "folder create"
FOLDER=$(jq -r .id "$T/mk")
Q="mimeType='application/vnd.google-apps.folder' and name='tube watch' and 'root' in parents and trashed=false"
st ls -H "$H" -G --data-urlencode "q=$Q" -d 'fields=files(id,name)' "$YS_URL/drive/v3/files" >/dev/null
jq -e --arg id "$FOLDER" '.files | length == 1 and .[0].id == $id' "$T/ls" >/dev/null ||
    fail "folder not found by q"
st ls2 -H "$H" -G --data-urlencode "q=name='other' and 'root' in parents" "$YS_URL/drive/v3/files" >/dev/null
jq -e '.files == []' "$T/ls2" >/dev/null || fail "q name filter"

# --- multipart ------------------------------------------------------------
printf 'hello\tworld\n' >"$T/small.tsv"
{
    printf -- '--BOUND\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n'
    printf '{"name":"small.tsv","parents":["%s"]}\r\n' "$FOLDER"
    printf -- '--BOUND\r\nContent-Type: text/tab-separated-values\r\n\r\n'
    cat "$T/small.tsv"
    printf '\r\n--BOUND--\r\n'
} >"$T/mp"
[ "$(st up1 -H "$H" -H 'Content-Type: multipart/related; boundary=BOUND' --data-binary @"$T/mp" \
    "$YS_URL/upload/drive/v3/files?uploadType=multipart&fields=id,name,size,md5Checksum")" = 200 ] ||
    fail "multipart: $(cat "$T/up1")"
jq -e --arg m "$(md5sum <"$T/small.tsv" | cut -c1-32)" '.md5Checksum == $m and .size == "12"' \
    "$T/up1" >/dev/null || fail "multipart md5/size"

# --- resumable ------------------------------------------------------------
head -c 614400 /dev/urandom >"$T/big.zip"
SUM=$(md5sum <"$T/big.zip" | cut -c1-32)
[ "$(st init -H "$H" -H 'Content-Type: application/json; charset=UTF-8' \
    -H 'X-Upload-Content-Type: application/zip' -H 'X-Upload-Content-Length: 614400' \
    -d "{\"name\":\"2026-01-01.zip\",\"parents\":[\"$FOLDER\"]}" \
    "$YS_URL/upload/drive/v3/files?uploadType=resumable&fields=id,name,size,md5Checksum")" = 200 ] ||
    fail "resumable init"
LOC=$(tr -d '\r' <"$T/init.h" | awk 'tolower($1) == "location:" { print $2 }')
case $LOC in *upload_id=*) ;; *) fail "no session URI in Location" ;; esac
part() { # FIRST LAST: bytes FIRST..LAST of big.zip
    tail -c +$(($1 + 1)) "$T/big.zip" | head -c $(($2 - $1 + 1)) >"$T/chunk"
}
range() { tr -d '\r' <"$T/$1.h" | awk 'tolower($1) == "range:" { print $2 }'; }
part 0 262143
[ "$(st c1 -X PUT -H 'Content-Range: bytes 0-262143/614400' --data-binary @"$T/chunk" "$LOC")" = 308 ] ||
    fail "chunk 1 not 308"
[ "$(range c1)" = "bytes=0-262143" ] || fail "chunk 1 Range: $(range c1)"
# a non-aligned middle chunk is kept only up to a 256 KiB boundary
part 262144 400000
[ "$(st c2 -X PUT -H 'Content-Range: bytes 262144-400000/614400' --data-binary @"$T/chunk" "$LOC")" = 308 ] ||
    fail "chunk 2 not 308"
[ "$(range c2)" = "bytes=0-262143" ] || fail "unaligned chunk kept: $(range c2)"
[ "$(st q1 -X PUT -H 'Content-Range: bytes */614400' -H 'Content-Length: 0' "$LOC")" = 308 ] ||
    fail "status query"
[ "$(range q1)" = "bytes=0-262143" ] || fail "status Range: $(range q1)"
part 262144 614399
[ "$(st c3 -X PUT -H 'Content-Range: bytes 262144-614399/614400' --data-binary @"$T/chunk" "$LOC")" = 200 ] ||
    fail "last chunk: $(cat "$T/c3")"
jq -e --arg m "$SUM" '.md5Checksum == $m and .size == "614400" and .name == "2026-01-01.zip"' \
    "$T/c3" >/dev/null || fail "resumable result"
[ "$(st q2 -X PUT -H 'Content-Range: bytes */614400' -H 'Content-Length: 0' "$LOC")" = 200 ] ||
    fail "status query after completion"
[ "$(st dead -X PUT -H 'Content-Range: bytes */10' "$YS_URL/upload/drive/v3/files?uploadType=resumable&upload_id=nosuch")" = 404 ] ||
    fail "unknown session not 404"
ID=$(jq -r .id "$T/c3")
cmp -s "$T/big.zip" "$YS_OUT/received/drive/$ID-2026-01-01.zip" || fail "stored file differs"
jq -e --arg m "$SUM" '.md5Checksum == $m and .upload == "resumable"' \
    "$YS_OUT/received/drive/$ID.json" >/dev/null || fail "stored metadata"
ytsim_stop

# --- expired tokens and sessions dropped by a fault --------------------
ytsim_start --scenario builtin --speed 0 --token-ttl 0 --fault drive_session:reset
st tok -d grant_type=refresh_token -d client_id=$CID -d client_secret=$CSEC \
    --data-urlencode refresh_token=1//ytsim-refresh-token "$YS_URL/token" >/dev/null
AT=$(jq -r .access_token "$T/tok")
[ "$(st ex -H "Authorization: Bearer $AT" "$YS_URL/drive/v3/files")" = 401 ] ||
    fail "expired token accepted"
ytsim_stop
ytsim_start --scenario builtin --speed 0 --fault drive_session:reset
st tok -d grant_type=refresh_token -d client_id=$CID -d client_secret=$CSEC \
    --data-urlencode refresh_token=1//ytsim-refresh-token "$YS_URL/token" >/dev/null
H="Authorization: Bearer $(jq -r .access_token "$T/tok")"
st init -H "$H" -H 'Content-Type: application/json' -d '{"name":"x"}' \
    "$YS_URL/upload/drive/v3/files?uploadType=resumable" >/dev/null
LOC=$(tr -d '\r' <"$T/init.h" | awk 'tolower($1) == "location:" { print $2 }')
[ "$(st gone -X PUT -H 'Content-Range: bytes */5' "$LOC")" = 404 ] ||
    fail "session dropped by fault not 404"
ytsim_stop
# JWT signatures checked with a configured public key (needs openssl(1))
if command -v openssl >/dev/null 2>&1; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$T/sa.key" 2>/dev/null || fail "openssl genpkey"
    openssl pkey -in "$T/sa.key" -pubout -out "$T/sa.pub" 2>/dev/null
    printf '[oauth]\nservice_account = "sa@p.iam.gserviceaccount.com"\npublic_key = "%s"\n' \
        "$T/sa.pub" >"$T/jwt.toml"
    ytsim_start --scenario "$T/jwt.toml" --speed 0
    now=$(date +%s)
    h=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
    c=$(printf '{"iss":"sa@p.iam.gserviceaccount.com","scope":"https://www.googleapis.com/auth/drive","aud":"https://oauth2.googleapis.com/token","iat":%s,"exp":%s}' "$now" $((now + 3600)) | b64url)
    sig=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$T/sa.key" | b64url)
    [ "$(st s1 -d grant_type=$JB -d assertion="$h.$c.$sig" "$YS_URL/token")" = 200 ] ||
        fail "signed JWT refused: $(cat "$T/s1")"
    bad=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$T/sa.key" | b64url | tr 'A-Za-z' 'B-ZAb-za')
    [ "$(st s2 -d grant_type=$JB -d assertion="$h.$c.$bad" "$YS_URL/token")" = 400 ] ||
        fail "bad signature accepted"
    jq -e '.error == "invalid_grant"' "$T/s2" >/dev/null || fail "bad signature body"
    ytsim_stop
fi
echo "ytsim-drive: ok"
