-- A cycle whose edges are both NOT NULL; one of them is DEFERRABLE, so it can still be broken.
CREATE SCHEMA IF NOT EXISTS sales;
CREATE TABLE sales.team (
    team_id integer PRIMARY KEY,
    name varchar(40) NOT NULL,
    captain_id integer NOT NULL
);
CREATE TABLE public.player (
    player_id integer PRIMARY KEY,
    nickname varchar(40) NOT NULL,
    team_id integer NOT NULL REFERENCES sales.team (team_id)
);
ALTER TABLE sales.team ADD CONSTRAINT team_captain_fk FOREIGN KEY (captain_id)
    REFERENCES public.player (player_id) DEFERRABLE INITIALLY IMMEDIATE;
