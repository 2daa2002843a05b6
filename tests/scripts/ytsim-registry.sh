#!/bin/sh
# ytsim-registry: ytsim's Confluent Schema Registry: basic auth (401 with
# Confluent's body), the preloaded ksqlDB schema of yt_videos-value, subjects
# and versions, register (same schema = same id, also under another subject,
# whitespace not significant), lookup, ids, and the 404/422 error codes.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
AUTH=sr-key:sr-secret-0123
ytsim_start --scenario tests/fixtures/kafka/registry.toml --speed 0

CT='Content-Type: application/vnd.schemaregistry.v1+json'
# get NAME PATH [CURL-ARGS...]: GET with credentials; prints the status
get() { n=$1 p=$2; shift 2; curl -s -u "$AUTH" -o "$T/$n" -w '%{http_code}' "$@" "$YS_URL$p"; }
# post NAME PATH BODY: POST with credentials; prints the status
post() { curl -s -u "$AUTH" -H "$CT" -o "$T/$1" -w '%{http_code}' -d "$3" "$YS_URL$2"; }
err_is() { # FILE CODE: a Confluent error body with error_code CODE
    jq -e --argjson c "$2" '.error_code == $c and (.message | type == "string")' \
        "$T/$1" >/dev/null || fail "$1: not error_code $2: $(cat "$T/$1")"
}

# basic auth: missing and wrong credentials get 401 and Confluent's body
[ "$(curl -s -o "$T/noauth" -w '%{http_code}' "$YS_URL/subjects")" = 401 ] || fail "no credentials not 401"
jq -e '. == {"error_code":401,"message":"Unauthorized"}' "$T/noauth" >/dev/null ||
    fail "401 body: $(cat "$T/noauth")"
[ "$(curl -s -u sr-key:wrong -o "$T/bad" -w '%{http_code}' "$YS_URL/schemas/ids/100001")" = 401 ] ||
    fail "wrong password not 401"
[ "$(curl -s -u sr-key:wrong -D "$T/hdr" -o /dev/null -w '%{http_code}' "$YS_URL/subjects")" = 401 ] || fail 401
grep -qi '^WWW-Authenticate: Basic' "$T/hdr" || fail "401 without WWW-Authenticate"

# the preloaded subject, exactly the schema ksqlDB registers for the seed
[ "$(get subj /subjects -D "$T/subj.h")" = 200 ] || fail "GET /subjects"
grep -qi '^Content-Type: application/vnd.schemaregistry.v1+json' "$T/subj.h" ||
    fail "registry content type"
jq -e '. == ["yt_videos-value"]' "$T/subj" >/dev/null || fail "subjects: $(cat "$T/subj")"
[ "$(get vers /subjects/yt_videos-value/versions)" = 200 ] || fail versions
jq -e '. == [1]' "$T/vers" >/dev/null || fail "versions: $(cat "$T/vers")"
[ "$(get latest /subjects/yt_videos-value/versions/latest)" = 200 ] || fail latest
jq -e '.subject == "yt_videos-value" and .version == 1 and .id == 100001 and
       (.schema | type == "string") and (keys == ["id","schema","subject","version"])' \
    "$T/latest" >/dev/null || fail "latest: $(cat "$T/latest")"
jq -r .schema "$T/latest" >"$T/ksql.avsc"
jq -e '.type == "record" and .name == "KsqlDataSourceSchema" and
       .namespace == "io.confluent.ksql.avro_schemas" and
       ([.fields[].name] == ["VIDEO_TIMESTAMP","TITLE","DESCRIPTION","VIEWS","LIKES","FAVORITES","COMMENTS"]) and
       ([.fields[] | select(.name | test("^(VIDEO_TIMESTAMP|TITLE|DESCRIPTION)$")) | .type] | all(. == ["null","string"])) and
       ([.fields[] | select(.name | test("^(VIEWS|LIKES|FAVORITES|COMMENTS)$")) | .type] | all(. == ["null","int"])) and
       ([.fields[] | has("default") and .default == null] | all)' "$T/ksql.avsc" >/dev/null ||
    fail "ksqlDB schema: $(cat "$T/ksql.avsc")"
[ "$(get v1 /subjects/yt_videos-value/versions/1)" = 200 ] || fail "version 1"
cmp -s "$T/v1" "$T/latest" || fail "versions/1 differs from latest"
[ "$(get byid /schemas/ids/100001)" = 200 ] || fail "GET /schemas/ids"
jq -e --slurpfile l "$T/latest" '.schema == $l[0].schema and keys == ["schema"]' "$T/byid" \
    >/dev/null || fail "ids body: $(cat "$T/byid")"
[ "$(get raw /subjects/yt_videos-value/versions/1/schema)" = 200 ] || fail "raw schema"
jq -e --slurpfile s "$T/ksql.avsc" '. == $s[0]' "$T/raw" >/dev/null || fail "raw schema body"

# 404 and 422 codes as Confluent's
[ "$(get e1 /subjects/nope-value/versions/latest)" = 404 ] || fail "unknown subject status"
err_is e1 40401
jq -e '.message == "Subject '"'"'nope-value'"'"' not found."' "$T/e1" >/dev/null || fail "40401 text"
[ "$(get e2 /subjects/yt_videos-value/versions/7)" = 404 ] || fail "unknown version status"
err_is e2 40402
[ "$(get e3 /subjects/yt_videos-value/versions/abc)" = 422 ] || fail "bad version status"
err_is e3 42202
[ "$(get e4 /schemas/ids/99)" = 404 ] || fail "unknown id status"
err_is e4 40403
[ "$(get e5 /subjects/nope-value/versions)" = 404 ] || fail "versions of unknown subject"
err_is e5 40401

# register: a new subject gets the next id; the same schema again (any
# whitespace) the same id and no new version; under another subject the
# same id; a changed schema a new id and version 2
S1='{"type":"record","name":"chat","namespace":"tubewatch","fields":[{"name":"MESSAGE_ID","type":"string"},{"name":"AMOUNT","type":["null","long"],"default":null}]}'
body() { jq -cn --arg s "$1" '{schema: $s}'; }
[ "$(post r1 /subjects/yt_chat-value/versions "$(body "$S1")")" = 200 ] || fail "register: $(cat "$T/r1")"
jq -e '. == {"id":100002}' "$T/r1" >/dev/null || fail "register body: $(cat "$T/r1")"
S1S=$(printf '%s' "$S1" | jq .)   # pretty-printed: same schema
[ "$(post r2 /subjects/yt_chat-value/versions "$(body "$S1S")")" = 200 ] || fail "re-register"
jq -e '.id == 100002' "$T/r2" >/dev/null || fail "same schema, new id: $(cat "$T/r2")"
[ "$(get cv /subjects/yt_chat-value/versions)" = 200 ] && jq -e '. == [1]' "$T/cv" >/dev/null ||
    fail "same schema made a new version: $(cat "$T/cv")"
[ "$(post r3 /subjects/other-value/versions "$(body "$S1")")" = 200 ] || fail "register other"
jq -e '.id == 100002' "$T/r3" >/dev/null || fail "same schema under another subject: $(cat "$T/r3")"
S2=$(printf '%s' "$S1" | jq -c '.fields += [{"name":"X","type":["null","int"],"default":null}]')
[ "$(post r4 /subjects/yt_chat-value/versions "$(body "$S2")")" = 200 ] || fail "register v2"
jq -e '.id == 100003' "$T/r4" >/dev/null || fail "new schema id: $(cat "$T/r4")"
[ "$(get cv2 /subjects/yt_chat-value/versions/latest)" = 200 ] || fail "latest v2"
jq -e '.version == 2 and .id == 100003' "$T/cv2" >/dev/null || fail "latest after v2: $(cat "$T/cv2")"
[ "$(get all /subjects)" = 200 ] || fail subjects2
jq -e '. == ["yt_videos-value","yt_chat-value","other-value"]' "$T/all" >/dev/null ||
    fail "subjects after registering: $(cat "$T/all")"
# lookup (POST /subjects/S)
[ "$(post l1 /subjects/yt_chat-value "$(body "$S1")")" = 200 ] || fail "lookup: $(cat "$T/l1")"
jq -e '.subject == "yt_chat-value" and .version == 1 and .id == 100002' "$T/l1" >/dev/null ||
    fail "lookup body: $(cat "$T/l1")"
[ "$(post l2 /subjects/yt_videos-value "$(body "$S1")")" = 404 ] || fail "lookup of an unknown schema"
err_is l2 40403
# invalid schemas: 422 42201
[ "$(post i1 /subjects/x-value/versions '{"schema":"{\"type\":\"recrd\"}"}')" = 422 ] ||
    fail "invalid Avro accepted"
err_is i1 42201
[ "$(post i2 /subjects/x-value/versions '{"schema":"{not json"}')" = 422 ] || fail "non-JSON schema"
err_is i2 42201
[ "$(post i3 /subjects/x-value/versions 'garbage')" = 422 ] || fail "garbage body"
err_is i3 42201
[ "$(post i4 /subjects/x-value/versions "$(jq -cn --arg s "$S1" '{schema:$s,schemaType:"PROTOBUF"}')")" = 422 ] ||
    fail "PROTOBUF accepted"
[ "$(get nx /subjects)" = 200 ] && ! jq -e 'index("x-value")' "$T/nx" >/dev/null ||
    fail "a refused schema created a subject"

# the received log lists every registration (same schema again included)
ytsim_stop
jq -s -e '[.[] | [.subject, .id, .version]] == [["yt_chat-value",100002,1],["yt_chat-value",100002,1],["other-value",100002,1],["yt_chat-value",100003,2]]' \
    "$YS_OUT/received/registry.jsonl" >/dev/null ||
    fail "received/registry.jsonl: $(cat "$YS_OUT/received/registry.jsonl")"

# registry faults use the "registry" group and Confluent's 50001 body
ytsim_start --scenario tests/fixtures/kafka/registry.toml --speed 0 \
    --fault registry:5xx
st=$(get f1 /subjects); [ "$st" = 503 ] || fail "registry fault not served: $st $(cat "$T/f1")"
err_is f1 50001
ytsim_stop
[ ! -e "$YS_OUT/received/registry.jsonl" ] || fail "a failed request registered"
echo "ytsim-registry: ok"
