-- The label a client gave a member when it added it (Entra ID sends
-- {"value": id, "displayName": "..."}); shown as members.display in place of
-- the member's own display name.
ALTER TABLE members ADD COLUMN label TEXT;
